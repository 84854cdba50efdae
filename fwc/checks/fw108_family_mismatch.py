"""FW108 family-mismatch."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Related, Severity
from ..model import Addr, Ports, Proto, Ruleset
from . import _walk as w
from .base import Check, Context

# Bounds the work on huge rulesets: each (protocol, port) costs one walk per family.
MAX_PORTS = 64


def open_ports(steps: list[w.Step]) -> list[tuple[w.Step, str, int]]:
    """(rule, protocol, port) for accept rules that open a TCP/UDP port to any source."""
    found: list[tuple[w.Step, str, int]] = []
    seen: set[tuple[str, int]] = set()
    for step in steps:
        if step.target != "ACCEPT":
            continue
        # Tested first: most accept rules of a large ruleset name a source.
        if any(isinstance(c, Addr) and c.field == "src" and not c.is_any for c in step.conds):
            continue  # a source list is family-specific by nature
        proto = next((c for c in step.conds if isinstance(c, Proto) and not c.negated), None)
        ports = [c for c in step.conds if isinstance(c, Ports) and c.field in ("dport", "ports") and not c.negated]
        if proto is None or w.proto_name(proto.name) not in ("tcp", "udp") or len(ports) != 1:
            continue
        for lo, _hi in ports[0].ranges:
            key = (w.proto_name(proto.name), lo)
            if key not in seen:
                seen.add(key)
                found.append((step, key[0], lo))
            if len(found) >= MAX_PORTS:
                return found
    return found


def new_connection(family: int, proto: str, port: int) -> w.Probe:
    return w.Probe(family, proto=proto, sport=w.EPHEMERAL_PORT, dport=port, states=frozenset({"NEW"}),
                   src=w.PUBLIC_SOURCE[family])


class FamilyMismatch(Check):
    """A port open to everyone over one IP family is dropped over the other.

    What it does
        When a document holds both an IPv4 and an IPv6 ruleset (a policy, a provisioning
        file), takes every TCP/UDP port INPUT opens to any source in one family and follows
        a new connection to it through the other family's INPUT; reports the accepting
        rule when the other family drops it.

    Why is this bad?
        Clients pick IPv6 first when the name has an AAAA record, so a service open only
        over IPv4 fails for some users (or needs a slow fallback), and one open only over
        IPv6 is usually an oversight in the IPv4 file. Either way the two files disagree.

    Example
        # kind: policy
        policy input drop
        allow in on lo
        allow established
        allow icmp essential
        allow ipv4 tcp 443

    Use instead
        # kind: policy
        policy input drop
        allow in on lo
        allow established
        allow icmp essential
        allow tcp 443

    Exceptions
        A service that only listens on one family may be opened only there; suppress the
        finding on that rule with the reason.
    """

    code = "FW108"
    name = "family-mismatch"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        by_family = {r.family: r for r in w.rulesets_with_filter(ctx)}
        if 4 not in by_family or 6 not in by_family:
            return
        for family, other in ((4, 6), (6, 4)):
            yield from self._compare(ctx, by_family[family], by_family[other])

    def _compare(self, ctx: Context, ruleset: Ruleset, other: Ruleset) -> Iterator[Diagnostic]:
        reported: set[int] = set()
        for step, proto, port in open_ports(w.flatten_cached(ctx, ruleset, "INPUT")):
            if id(step.rule) in reported:
                continue
            here = w.walk_cached(ctx, ruleset, "INPUT", new_connection(ruleset.family, proto, port), bad=w.ACCEPTS)
            there = w.walk_cached(ctx, other, "INPUT", new_connection(other.family, proto, port))
            if here is None or there is None or here.kind != "bad" or there.kind != "bad":
                continue
            reported.add(id(step.rule))
            related = ()
            span = w.outcome_span(ctx, there)
            if step.rule.span != span:
                related = (Related(span, f"IPv{other.family} drops it here"),)
            yield self.diag(step.rule.span or w.chain_span(ctx, here.chain),
                            f"{proto} port {port} is open to any source over IPv{ruleset.family} but "
                            f"IPv{other.family} drops it ({w.where(there)})",
                            related=related,
                            help="open it in both families, or suppress with the reason it is single-family")
