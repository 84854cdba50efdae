"""FW105 pmtud-blackhole."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from . import _walk as w
from .base import Check, Context

FRAGMENTATION_NEEDED = (3, 4)


def fragmentation_needed_probe() -> w.Probe:
    # A router's error about one of the host's connections: conntrack calls it RELATED.
    return w.Probe(4, proto="icmp", icmp=FRAGMENTATION_NEEDED, states=frozenset({"RELATED"}),
                   src=w.PUBLIC_SOURCE[4])


class PmtudBlackhole(Check):
    """IPv4 ICMP fragmentation-needed (type 3 code 4) is dropped: path MTU discovery breaks.

    What it does
        Follows an ICMP destination-unreachable / fragmentation-needed error from a router
        (a packet conntrack marks RELATED to one of the host's connections) through the
        IPv4 INPUT chain and reports where it is dropped.

    Why is this bad?
        TCP finds the path MTU by sending with "don't fragment" and shrinking its packets
        when a router answers "fragmentation needed". Dropping that answer makes large
        transfers hang after the handshake (the PMTUD black hole, RFC 2923) on any path
        with a smaller MTU (VPNs, PPPoE, tunnels).

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -p icmp -j DROP
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p icmp -m icmp --icmp-type 3 -j ACCEPT
        -A INPUT -p icmp -j DROP
        COMMIT

    Exceptions
        None worth having: accept RELATED traffic (which lets exactly the errors about
        your own connections in) or ICMP type 3 explicitly, even when echo is blocked.
    """

    code = "FW105"
    name = "pmtud-blackhole"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            if ruleset.family != 4:
                continue
            outcome = w.walk_cached(ctx, ruleset, "INPUT", fragmentation_needed_probe())
            if outcome is None or outcome.kind != "bad":
                continue
            help = ("add `allow icmp essential` (or `allow icmp 3`)" if ctx.document.kind == "policy"
                    else "accept RELATED,ESTABLISHED traffic, or `-p icmp --icmp-type 3`, before this drop")
            yield self.diag(w.outcome_span(ctx, outcome),
                            "ICMP fragmentation-needed (type 3 code 4) is dropped by "
                            f"{w.where(outcome)}: path MTU discovery fails and large transfers hang",
                            help=help)
