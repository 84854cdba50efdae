"""FW601 docker-dnat-bypass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..diagnostics import Diagnostic, Related, Severity
from ..model import Addr, Chain, Opaque, Ports, Proto, Rule, Table
from . import _walk as w
from .base import Check, Context


@dataclass(frozen=True)
class Forwarded:
    """Ports the nat table rewrites to another host (a container), and the DNAT rule."""

    proto: str
    ranges: tuple[tuple[int, int], ...]
    rule: Rule


def _proto(conds) -> str | None:
    proto = next((c for c in conds if isinstance(c, Proto) and not c.negated), None)
    return w.proto_name(proto.name) if proto else None


def _dports(conds) -> tuple[tuple[int, int], ...]:
    for c in conds:
        if isinstance(c, Ports) and c.field in ("dport", "ports") and not c.negated:
            return c.ranges
    return ()


def _overlap(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> tuple[int, int] | None:
    for lo, hi in a:
        for lo2, hi2 in b:
            if lo <= hi2 and lo2 <= hi:
                return max(lo, lo2), min(hi, hi2)
    return None


def _nat_host(value: str) -> str:
    """The first address of a `--to-destination` value (`ADDR[-ADDR][:PORT[-PORT]]`,
    IPv6 in brackets when a port follows)."""
    if value.startswith("["):
        return value[1:value.find("]")]
    if value.count(":") == 1:  # IPv4 with a port
        value = value.split(":")[0]
    return value.split("-")[0]


def _to_local(rule: Rule) -> bool:
    """DNAT to a loopback address keeps the packet on this host (it then crosses INPUT)."""
    dest = rule.target.option("to-destination") if rule.target else None
    if not dest:
        return False
    host = _nat_host(dest)
    return host.startswith("127.") or host == "::1"


def _destination(conds, to_host: bool) -> bool:
    """Whether the packets may still be addressed to this host: no specific `-d`
    (a Kubernetes service address, say) unless `-m addrtype --dst-type LOCAL` says so."""
    for c in conds:
        if isinstance(c, Opaque) and c.module == "addrtype" and not c.negated and "LOCAL" in c.args:
            return True
        if isinstance(c, Addr) and c.field == "dst" and not c.negated and not isinstance(c.value, str) and not c.is_any:
            to_host = False
    return to_host


def forwarded_ports(nat: Table, blocked: dict[str, list[tuple[tuple[int, int], ...]]]) -> list[Forwarded]:
    """The DNAT rules reachable from nat PREROUTING that rewrite a port INPUT blocks.

    Walks once per chain, carrying the protocol and ports the jumps required, and skips
    any rule whose ports no INPUT block names, so huge kube-proxy tables stay cheap."""
    index = w.chain_index(nat)
    start = index.get("PREROUTING")
    found: list[Forwarded] = []
    if start is None:
        return found
    # A chain is walked once per (protocol, ports) its callers require, within a budget
    # proportional to the table, so the walk stays linear.
    expanded: set[tuple] = set()
    budget = [4 * sum(len(c.rules) for c in nat.chains) + 100]

    def blocks(proto, ranges) -> bool:
        if proto is None or not ranges:
            return True  # not yet known: a later rule may say
        return any(_overlap(ranges, b) for b in blocked.get(proto, ()))

    def visit(chain: Chain, proto, ranges, to_host: bool) -> None:
        budget[0] -= len(chain.rules)
        for rule in chain.rules:
            target = rule.target
            if target is None:
                continue
            conds = rule.match.conds
            p = _proto(conds) or proto
            r = _dports(conds) or ranges
            here = _destination(conds, to_host)
            if not here or (p is not None and p not in blocked) or not blocks(p, r):
                continue
            if target.name == "DNAT":
                if p is not None and r and not _to_local(rule):
                    found.append(Forwarded(p, r, rule))
                continue
            sub = index.get(target.name)
            key = (target.name, p, r)
            if sub is not None and not sub.is_builtin and key not in expanded and budget[0] > 0:
                expanded.add(key)
                visit(sub, p, r, here)

    visit(start, None, (), True)
    return found


class DockerDnatBypass(Check):
    """INPUT blocks a port that the nat table DNATs to a container: the block does nothing.

    What it does
        Collects the ports the nat table's PREROUTING (and the chains it jumps to, such
        as Docker's `DOCKER`) rewrites to another address, and reports each INPUT rule
        that drops or rejects one of those ports.

    Why is this bad?
        DNAT happens before the routing decision: a packet for a published container port
        is rewritten to the container's address and goes through FORWARD, never INPUT.
        The INPUT rule looks like protection but the port stays open to the world.

    Example
        # kind: rules
        *nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        :DOCKER - [0:0]
        -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
        -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
        COMMIT
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -p tcp -m tcp --dport 8080 -j DROP
        COMMIT

    Use instead
        # kind: rules
        *nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        :DOCKER - [0:0]
        -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
        -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
        COMMIT
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        :DOCKER-USER - [0:0]
        -A FORWARD -j DOCKER-USER
        -A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 -j DROP
        COMMIT

    Exceptions
        DNAT to a loopback address (with `route_localnet`) keeps the packet local; such
        rules are not counted.
    """

    code = "FW601"
    name = "docker-dnat-bypass"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        for ruleset in w.rulesets_with_filter(ctx):
            nat = ruleset.table("nat")
            if nat is None:
                continue
            blocks = [(s, _proto(s.conds), _dports(s.conds)) for s in w.flatten_cached(ctx, ruleset, "INPUT")
                      if s.target in w.DROPS]
            blocks = [(s, p, r) for s, p, r in blocks if p is not None and r and s.rule.span is not None]
            if not blocks:
                continue
            blocked: dict[str, list] = {}
            for _step, proto, ranges in blocks:
                blocked.setdefault(proto, []).append(ranges)
            forwarded = forwarded_ports(nat, blocked)
            for step, proto, ranges in blocks:
                hit = next(((f, both) for f in forwarded
                            if f.proto == proto and (both := _overlap(ranges, f.ranges))), None)
                if hit is None:
                    continue
                f, (lo, _hi) = hit
                dest = f.rule.target.option("to-destination") or "another address"
                related = (Related(f.rule.span, "the DNAT rule"),) if f.rule.span else ()
                yield self.diag(step.rule.span,
                                f"{proto} port {lo} is DNATed to {dest} in the nat table: those packets "
                                "go through FORWARD, not INPUT, so this rule never sees them",
                                related=related,
                                help="filter published container ports in DOCKER-USER with "
                                     "`-m conntrack --ctorigdstport PORT`")
