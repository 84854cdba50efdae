"""FW109 invalid-not-dropped."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Related, Severity
from . import _walk as w
from .base import Check, Context

_INVALID = frozenset({"INVALID"})


def invalid_probes(family: int) -> tuple[w.Probe, ...]:
    echo = (8, 0) if family == 4 else (128, 0)
    icmp = "icmp" if family == 4 else "ipv6-icmp"
    src = w.PUBLIC_SOURCE[family]
    return (w.Probe(family, proto="tcp", states=_INVALID, src=src),
            w.Probe(family, proto="udp", states=_INVALID, src=src),
            w.Probe(family, proto=icmp, icmp=echo, states=_INVALID, src=src))


class InvalidNotDropped(Check):
    """INPUT has no `--ctstate INVALID` drop before rules that accept without a state.

    What it does
        Follows packets that conntrack marks INVALID (TCP, UDP, ICMP echo) through INPUT and
        reports when an accept rule may take one before any rule drops INVALID packets.

    Why is this bad?
        INVALID packets belong to no connection conntrack knows: out-of-window TCP
        segments, malformed ICMP, scans with odd flag combinations. Rules that accept a
        port without a state let them reach the service; dropping them first is cheap
        hardening that costs nothing.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
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
        -A INPUT -m conntrack --ctstate INVALID -j DROP
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        Rules that accept only NEW connections never take INVALID packets and are not
        reported. On IPv6, neighbour discovery must be accepted before the INVALID drop
        (older kernels mark it INVALID); ICMPv6 neighbour discovery accepts are not counted
        here.
    """

    code = "FW109"
    name = "invalid-not-dropped"
    severity = Severity.INFO

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            for probe in invalid_probes(ruleset.family):
                outcome = w.walk_cached(ctx, ruleset, "INPUT", probe, bad=w.ACCEPTS, maybe_decides="bad")
                if outcome is None or outcome.kind != "bad" or outcome.rule is None:
                    continue
                related = ((Related(outcome.rule.span, "this rule accepts them"),)
                           if outcome.rule.span is not None else ())
                help = ("add `drop invalid` after `allow established`" if ctx.document.kind == "policy"
                        else "add `-A INPUT -m conntrack --ctstate INVALID -j DROP` after the RELATED,ESTABLISHED accept")
                yield self.diag(w.chain_span(ctx, _input(ruleset)),
                                f"IPv{ruleset.family} INPUT does not drop INVALID packets: an INVALID "
                                f"{probe.proto if probe.proto != 'ipv6-icmp' else 'icmpv6'} packet may be accepted by "
                                f"{w.where(outcome)}",
                                related=related, help=help)
                break


def _input(ruleset):
    return w.filter_chain(ruleset, "INPUT")
