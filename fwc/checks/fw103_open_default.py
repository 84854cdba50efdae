"""FW103 open-default."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from . import _walk as w
from .base import Check, Context

# A port no rule is likely to name: what happens to traffic nobody thought about.
UNLISTED_PORT = 31337


def unmatched_probes(chain: str, family: int) -> tuple[w.Probe, ...]:
    out = w.EXTERNAL if chain == "FORWARD" else None
    new = frozenset({"NEW"})
    return tuple(w.Probe(family, iface_out=out, proto=proto, sport=w.EPHEMERAL_PORT, dport=UNLISTED_PORT,
                         states=new, src=w.PUBLIC_SOURCE[family])
                 for proto in ("tcp", "udp"))


def accepted_by_default(ctx: Context, ruleset, chain: str) -> w.Outcome | None:
    """The walk of a new connection to an unlisted port, if it ends in an ACCEPT policy."""
    for probe in unmatched_probes(chain, ruleset.family):
        outcome = w.walk_cached(ctx, ruleset, chain, probe, bad=w.ACCEPTS)
        if outcome is not None and outcome.kind == "bad" and outcome.rule is None:
            return outcome
    return None


class OpenDefault(Check):
    """INPUT or FORWARD accepts whatever no rule matched (ACCEPT policy, no final drop).

    What it does
        Follows a new TCP and UDP connection to a port no rule names through INPUT and
        FORWARD and reports the chain when such traffic reaches an ACCEPT policy.

    Why is this bad?
        A firewall should say what it lets in and drop the rest. With an ACCEPT default
        every service that starts listening later (a debug server, a database bound to
        0.0.0.0) is exposed, and the rules only block what someone remembered to block.

    Example
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -p tcp -m tcp --dport 23 -j DROP
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        An ACCEPT policy followed by a final `-A INPUT -j DROP` (or REJECT) is fine and
        not reported. Hosts that do not route may leave FORWARD open with
        `net.ipv4.ip_forward=0`, but a DROP policy costs nothing and survives a sysctl
        change.
    """

    code = "FW103"
    name = "open-default"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            for chain in ("INPUT", "FORWARD"):
                outcome = accepted_by_default(ctx, ruleset, chain)
                if outcome is None:
                    continue
                family = "IPv6" if ruleset.family == 6 else "IPv4"
                help = (f"use `policy {'input' if chain == 'INPUT' else 'forward'} drop`"
                        if ctx.document.kind == "policy"
                        else f"set `:{chain} DROP` (after accepting what must get in) or end {chain} with `-j DROP`")
                yield self.diag(w.chain_span(ctx, outcome.chain),
                                f"{family} {chain} accepts unmatched traffic: a new connection to an "
                                f"unlisted port reaches the {chain} policy ACCEPT",
                                help=help)
