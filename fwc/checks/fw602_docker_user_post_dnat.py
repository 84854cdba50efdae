"""FW602 docker-user-post-dnat."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..model import Addr, Iface, Ports
from . import _walk as w
from .base import Check, Context


def _from_containers(conds) -> bool:
    """Traffic leaving containers (`-i docker0`, `-i br-+`) is not DNATed: its
    destination fields are the real ones."""
    return any(isinstance(c, Iface) and c.field == "in" and not c.negated
               and (c.name.startswith("docker") or c.name.startswith("br-")) for c in conds)


def post_dnat_fields(conds) -> list[str]:
    found = []
    for c in conds:
        if isinstance(c, Ports) and c.field in ("dport", "ports") and "--dport" not in found:
            found.append("--dport")
        elif isinstance(c, Addr) and c.field == "dst" and c.module is None and "-d" not in found:
            found.append("-d")
    return found


class DockerUserPostDnat(Check):
    """A DOCKER-USER rule matches `--dport` / `-d`, which it only sees after DNAT.

    What it does
        Reports rules in the `DOCKER-USER` chain (and chains it jumps to) that match the
        destination port or address of inbound traffic, instead of the original ones
        conntrack remembers (`--ctorigdstport`, `--ctorigdst`).

    Why is this bad?
        DOCKER-USER runs in FORWARD, after the nat table rewrote the destination to the
        container's address and port. `-p tcp --dport 8080` there never matches a port
        published as `-p 8080:80` (the packet now says 80), and `-d` sees the container
        address, not the host's. The rule silently does nothing, or matches the wrong
        container when ports collide.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        :DOCKER-USER - [0:0]
        -A FORWARD -j DOCKER-USER
        -A DOCKER-USER -p tcp -m tcp --dport 8080 -j DROP
        -A DOCKER-USER -j RETURN
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        :DOCKER-USER - [0:0]
        -A FORWARD -j DOCKER-USER
        -A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP
        -A DOCKER-USER -j RETURN
        COMMIT

    Exceptions
        Rules for traffic leaving the containers (`-i docker0`, `-i br-...`) see real
        destinations and are not reported.
    """

    code = "FW602"
    name = "docker-user-post-dnat"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            if w.filter_chain(ruleset, "DOCKER-USER") is None:
                continue
            for step in w.flatten_cached(ctx, ruleset, "DOCKER-USER"):
                fields = post_dnat_fields(step.rule.match.conds)
                if not fields or _from_containers(step.conds) or step.rule.span is None:
                    continue
                better = " / ".join({"--dport": "--ctorigdstport", "-d": "--ctorigdst"}[f] for f in fields)
                yield self.diag(step.rule.span,
                                f"DOCKER-USER sees packets after DNAT: {' and '.join(fields)} match the "
                                "container's address and port, not the published ones",
                                help=f"match `-m conntrack {better}` instead")
