"""FW302 accept-all."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from . import _walk as w
from .base import Check, Context


def any_packet(family: int) -> w.Probe:
    """Any packet from any source on an external interface: only a rule without real
    conditions matches all of it."""
    return w.Probe(family)


class AcceptAll(Check):
    """A rule in INPUT accepts every packet from any source on non-loopback interfaces.

    What it does
        Reports each rule reachable from INPUT (directly or through jumps, whose
        conditions count) that accepts everything arriving on a real interface: no
        protocol, port, address or state restriction, only at most `! -i lo`.

    Why is this bad?
        Everything after it is dead and every listening service is exposed. It is usually
        a debugging leftover (`iptables -I INPUT -j ACCEPT`) or a misplaced loopback rule
        that lost its `-i lo`.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
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
        Accepting everything on one named interface (`-i eth1 -j ACCEPT`, a private or VPN
        network) is a deliberate trust decision and is not reported.
    """

    code = "FW302"
    name = "accept-all"
    severity = Severity.ERROR

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            probe = any_packet(ruleset.family)
            for step in w.flatten_cached(ctx, ruleset, "INPUT"):
                target = step.rule.target  # (not Step.target: one call less per rule)
                if target is not None and target.name == "ACCEPT" and w.matches_all(step.conds, probe):
                    yield self.diag(step.rule.span or w.chain_span(ctx, w.filter_chain(ruleset, "INPUT")),
                                    f"IPv{ruleset.family} INPUT accepts every packet from any source on "
                                    "non-loopback interfaces: the rules after it do nothing",
                                    help="restrict it (`-i lo` for loopback, a port or a source), or remove it")
