"""FW111 loopback-spoofing."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Related, Severity
from . import _walk as w
from .base import Check, Context


def spoofed_probe(family: int) -> w.Probe:
    return w.Probe(family, proto="tcp", sport=w.EPHEMERAL_PORT, states=frozenset({"NEW"}),
                   src=w.LOOPBACK_ADDRESS[family])


class LoopbackSpoofing(Check):
    """Packets claiming a loopback source (127.0.0.0/8, ::1) on a real interface are not dropped.

    What it does
        Follows a new connection from 127.0.0.1 (or ::1) arriving on an external interface
        through INPUT and reports when a rule may accept it before anything drops it.

    Why is this bad?
        Such packets are forged: loopback addresses never arrive from a network. Services
        that trust "localhost" (admin ports, metrics, databases bound with host-based
        trust) may act on them. Linux drops most of them as martians, but not in every
        configuration (`route_localnet`), and the firewall should not rely on that.

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
        -A INPUT -s 127.0.0.0/8 ! -i lo -j DROP
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        Hosts that set `net.ipv4.conf.*.route_localnet=0` (the default) and reverse-path
        filtering get most of this from the kernel; the rule documents it and covers IPv6.
    """

    code = "FW111"
    name = "loopback-spoofing"
    severity = Severity.INFO

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            probe = spoofed_probe(ruleset.family)
            outcome = w.walk_cached(ctx, ruleset, "INPUT", probe, bad=w.ACCEPTS, maybe_decides="bad")
            if outcome is None or outcome.kind != "bad" or outcome.rule is None:
                continue
            net = "127.0.0.0/8" if ruleset.family == 4 else "::1"
            related = ((Related(outcome.rule.span, "this rule may accept them"),)
                       if outcome.rule.span is not None else ())
            help = (f"add `drop from {net}` after `allow in on lo`" if ctx.document.kind == "policy"
                    else f"add `-A INPUT -s {net} ! -i lo -j DROP` after the loopback accept")
            yield self.diag(w.chain_span(ctx, w.filter_chain(ruleset, "INPUT")),
                            f"packets from {net} arriving on a non-loopback interface are not dropped: "
                            f"one may be accepted by {w.where(outcome)}",
                            related=related, help=help)
