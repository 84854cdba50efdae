"""FW107 ipv6-unfiltered."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..model import Ruleset
from . import _walk as w
from .base import Check, Context
from .fw103_open_default import unmatched_probes


def unmatched_outcome(ctx: Context, ruleset: Ruleset) -> w.Outcome | None:
    """Where a new TCP connection to an unlisted port ends in INPUT; None without INPUT."""
    probe = unmatched_probes("INPUT", ruleset.family)[0]
    return w.walk_cached(ctx, ruleset, "INPUT", probe, bad=w.ACCEPTS)


class Ipv6Unfiltered(Check):
    """IPv4 is filtered but IPv6 is left open (no IPv6 ruleset, or its INPUT accepts all).

    What it does
        For a policy or a provisioning file, compares the two families: when IPv4's INPUT
        drops traffic it was not told to accept but IPv6 has no ruleset at all, or an IPv6
        INPUT that accepts such traffic, it reports the IPv6 gap.

    Why is this bad?
        Most hosts get an IPv6 address whether anyone planned it or not (cloud images,
        SLAAC). Every service the IPv4 rules protect is then reachable over IPv6, and
        scanners do look there.

    Example
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /var/lib/iptables/rules-save
            permissions: "0644"
            content: |
              *filter
              :INPUT DROP [0:0]
              :FORWARD DROP [0:0]
              :OUTPUT ACCEPT [0:0]
              -A INPUT -i lo -j ACCEPT
              -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
              -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
              COMMIT
        coreos:
          units:
            - name: iptables-restore.service
              enable: true

    Use instead
        # kind: policy
        policy input drop
        policy forward drop
        policy output accept
        allow in on lo
        allow established
        allow icmp essential
        allow tcp 22

    Exceptions
        Hosts with IPv6 disabled in the kernel (`ipv6.disable=1`) need no IPv6 rules; say
        so by suppressing the finding. A lone rules-save file is never reported: it holds
        one family by design.
    """

    code = "FW107"
    name = "ipv6-unfiltered"
    severity = Severity.WARNING
    applies_to = frozenset({"policy", "cloud-config", "butane"})

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        v4 = [r for r in ctx.rulesets if r.family == 4]
        v6 = [r for r in ctx.rulesets if r.family == 6]
        restricted = [(r, o) for r in v4 if (o := unmatched_outcome(ctx, r)) is not None and o.kind != "bad"]
        if not restricted:
            return
        ruleset4, outcome4 = restricted[0]
        if not v6:
            yield self.diag(w.chain_span(ctx, w.filter_chain(ruleset4, "INPUT")),
                            "IPv4 INPUT is filtered but there is no IPv6 ruleset: every service is "
                            "reachable over IPv6",
                            help="write an IPv6 rules file too (and enable the unit that loads it)")
            return
        for ruleset6 in v6:
            outcome6 = unmatched_outcome(ctx, ruleset6)
            if outcome6 is None:
                yield self.diag(w.chain_span(ctx, w.filter_chain(ruleset4, "INPUT")),
                                "IPv4 INPUT is filtered but the IPv6 ruleset has no filter INPUT chain: "
                                "every service is reachable over IPv6")
            elif outcome6.kind == "bad":
                yield self.diag(w.outcome_span(ctx, outcome6),
                                f"IPv4 INPUT is filtered but IPv6 INPUT accepts unmatched traffic "
                                f"({w.where(outcome6)}): every service is reachable over IPv6",
                                help="give IPv6 the same default as IPv4 (`:INPUT DROP`)")
