"""FW603 restore-wipes-foreign-chains."""

from __future__ import annotations

import re
from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..source import Span
from . import _walk as w
from .base import Check, Context

# Chains other software creates and keeps up to date at run time.
FOREIGN_CHAINS = (
    ("Docker", re.compile(r"^DOCKER(?:$|-)")),
    ("Kubernetes", re.compile(r"^(?:KUBE-|cali-|CILIUM_|FLANNEL-|WEAVE)")),
    ("fail2ban", re.compile(r"^(?:f2b-|fail2ban-)")),
)
# In a provisioning file: software installed or started that creates such chains.
FOREIGN_SOFTWARE = (
    ("Docker", re.compile(r"(?<![\w.-])(?:docker(?:\.io|-ce|\.service|d)?|moby-engine)(?![\w-])")),
    ("Kubernetes", re.compile(r"(?<![\w.-])(?:kubelet|kubeadm|k3s|rke2|kube-proxy)(?![\w-])")),
    ("fail2ban", re.compile(r"(?<![\w.-])fail2ban(?![\w-])")),
)
_NOFLUSH = re.compile(r"(?:--noflush|(?<![\w-])-n(?![\w-]))")


def _restores_without_flush(text: str) -> bool:
    """A restore command line in the file keeps the tables (`iptables-restore --noflush`)."""
    return any(_NOFLUSH.search(line) for line in text.splitlines() if "-restore" in line)


def _any_of(patterns) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern.pattern})" for _software, pattern in patterns))


def foreign_chain_names(names_by_table: dict[str, dict[str, None]], limit: int = 4) -> dict[str, list[str]]:
    """Software name -> the first few foreign chains the ruleset declares or jumps to."""
    found: dict[str, list[str]] = {software: [] for software, _pattern in FOREIGN_CHAINS}
    # Software whose list is full is no longer looked for: a Kubernetes node's tens of
    # thousands of KUBE-* chains then cost one failing match each.
    looking = list(FOREIGN_CHAINS)
    any_foreign = _any_of(looking)
    for names in names_by_table.values():
        for name in names:
            if not any_foreign.match(name):
                continue
            for software, pattern in looking:
                listed = found[software]
                if name not in listed and pattern.match(name):
                    listed.append(name)
            if any(len(found[software]) >= limit for software, _pattern in looking):
                looking = [(s, p) for s, p in looking if len(found[s]) < limit]
                if not looking:
                    break
                any_foreign = _any_of(looking)
        else:
            continue
        break
    return {software: listed for software, listed in found.items() if listed}


def _software_in_yaml(ctx: Context) -> list[str]:
    text = ctx.document.source.text
    return [software for software, pattern in FOREIGN_SOFTWARE if pattern.search(text)]


class RestoreWipesForeignChains(Check):
    """A full-table restore on a host where Docker, Kubernetes or fail2ban manage chains.

    What it does
        Reports a ruleset that `iptables-restore` loads table by table (flushing each
        table first) when the host runs software that keeps its own chains in those
        tables: the ruleset declares or jumps to `DOCKER*`, `KUBE-*`, `f2b-*` chains, or
        the provisioning file installs or enables Docker, Kubernetes or fail2ban.

    Why is this bad?
        A plain restore replaces the whole table. Chains Docker, kube-proxy or fail2ban
        created at run time disappear (containers lose their published ports and outbound
        NAT, bans are lifted), or come back as a stale snapshot with old container
        addresses. The breakage appears only on the next reload, far from its cause.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        :DOCKER - [0:0]
        :DOCKER-USER - [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A FORWARD -j DOCKER-USER
        -A FORWARD -o docker0 -j DOCKER
        -A DOCKER-USER -j RETURN
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        COMMIT

    Exceptions
        Restoring with `iptables-restore --noflush` into chains of your own (and leaving
        the foreign ones out of the file) is safe; a provisioning file whose restore
        command says `--noflush` is not reported.
    """

    code = "FW603"
    name = "restore-wipes-foreign-chains"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        provisioning = ctx.document.kind in ("cloud-config", "butane")
        if provisioning and _restores_without_flush(ctx.document.source.text):
            return
        installed = _software_in_yaml(ctx) if provisioning else []
        reported: set[Span] = set()
        for ruleset in ctx.rulesets:
            if not ruleset.tables:
                continue
            chains = foreign_chain_names(w.rule_facts(ctx, ruleset).names)
            software = list(chains) + [s for s in installed if s not in chains]
            if not software:
                continue
            table = ruleset.tables[0]
            span = table.span or Span(ctx.document.path, 1, 1, 1, 2)
            if span in reported:
                continue
            reported.add(span)
            listed = "; ".join(f"{s}: {', '.join(chains[s][:4])}" for s in chains)
            what = f" ({listed})" if listed else ""
            yield self.diag(span,
                            f"restoring this ruleset replaces whole tables, but {' and '.join(software)} "
                            f"keep their own chains in them{what}: a restore wipes those chains or "
                            "brings back a stale copy",
                            help="restore with `--noflush` into chains of your own, and leave the "
                                 "foreign chains out of the file")
