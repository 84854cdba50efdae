"""FW601 docker-dnat-bypass."""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass
from typing import Iterator

from ..diagnostics import Diagnostic, Related, Severity
from ..model import Ports, Proto, Rule
from . import _walk as w
from .base import Check, Context


@dataclass(frozen=True)
class Forwarded:
    """A port the nat table rewrites to another host (a container): (lo, hi, the DNAT rule)."""

    lo: int
    hi: int
    rule: Rule


def _proto(conds) -> str | None:
    proto = next((c for c in conds if isinstance(c, Proto) and not c.negated), None)
    return w.proto_name(proto.name) if proto else None


def _dports(conds) -> tuple[tuple[int, int], ...]:
    for c in conds:
        if isinstance(c, Ports) and c.field in ("dport", "ports") and not c.negated:
            return c.ranges
    return ()


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
    try:
        return ipaddress.ip_address(_nat_host(dest)).is_loopback
    except ValueError:
        return False


def forwarded_ports(ruleset) -> dict[str, tuple[list[int], list[Forwarded]]]:
    """Per protocol, the destination ports DNATed away from the host, sorted by start."""
    nat = ruleset.table("nat")
    found: dict[str, list[Forwarded]] = {}
    if nat is None:
        return {}
    for step in w.flatten(nat, "PREROUTING"):
        if step.target != "DNAT" or _to_local(step.rule):
            continue
        proto = _proto(step.conds)
        if proto is None:
            continue
        for lo, hi in _dports(step.conds):
            found.setdefault(proto, []).append(Forwarded(lo, hi, step.rule))
    index = {}
    for proto, items in found.items():
        items.sort(key=lambda f: f.lo)
        index[proto] = ([f.lo for f in items], items)
    return index


def _overlapping(index, proto: str, lo: int, hi: int) -> Forwarded | None:
    if proto not in index:
        return None
    starts, items = index[proto]
    # Ranges starting at or before hi; DNAT ranges are short, so look back a few.
    at = bisect.bisect_right(starts, hi)
    for f in reversed(items[max(0, at - 64):at]):
        if f.hi >= lo:
            return f
    return None


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
            if ruleset.table("nat") is None:
                continue
            blocks = [s for s in w.flatten_cached(ctx, ruleset, "INPUT")
                      if s.target in w.DROPS and _dports(s.conds) and _proto(s.conds)]
            if not blocks:
                continue
            index = forwarded_ports(ruleset)
            for step in blocks:
                proto = _proto(step.conds)
                for lo, hi in _dports(step.conds):
                    hit = _overlapping(index, proto, lo, hi)
                    if hit is None or step.rule.span is None:
                        continue
                    dest = hit.rule.target.option("to-destination") or "another address"
                    related = (Related(hit.rule.span, "the DNAT rule"),) if hit.rule.span else ()
                    yield self.diag(step.rule.span,
                                    f"{proto} port {max(lo, hit.lo)} is DNATed to {dest} in the nat table: "
                                    "those packets go through FORWARD, not INPUT, so this rule never sees them",
                                    related=related,
                                    help="filter published container ports in DOCKER-USER with "
                                         "`-m conntrack --ctorigdstport PORT`")
                    break
