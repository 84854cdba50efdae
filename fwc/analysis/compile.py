"""Lower a rule's match (a conjunction of model conditions) to packet cubes.

``match_space`` gives the packets the modelled conditions accept. For a rule with an
opaque condition (an unmodelled ``-m`` module, or a rate limit) that set is only what
the rule *may* match: the analysis never counts such a rule as covering anything.

Kernel details kept here: a port, ICMP or TCP-flags match (``-m tcp/udp/icmp/multiport``)
never matches a later fragment (the kernel returns false before looking at inversion),
so such conditions also fix ``frag`` to 0, negated or not.
"""

from __future__ import annotations

from functools import lru_cache

from ..model import Addr, Fragment, Icmp, Iface, Match, Opaque, Ports, Proto, Rate, State, TcpFlags
from . import intervals as iv
from .space import (DPORT, DST, FLAGS, FRAG, ICMP, IFNAME_BYTES, IIF, OIF, PROTO, SPORT, SRC,
                    STATE, TCP_FLAG_BITS, Space, Universe, state_codes, universe)

PROTOCOLS = {
    "all": None, "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "tcp": 6, "egp": 8,
    "udp": 17, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47,
    "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ospf": 89, "ospfigp": 89, "vrrp": 112, "l2tp": 115, "sctp": 132,
    "mh": 135, "ipv6-mh": 135, "udplite": 136, "mpls-in-ip": 137,
}
PROTOCOL_NAMES = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 132: "sctp", 136: "udplite",
                  50: "esp", 51: "ah", 47: "gre", 2: "igmp", 41: "ipv6", 112: "vrrp", 89: "ospf"}
PORT_PROTOCOLS = (6, 17, 132, 136)
TCP, UDP, ICMP4, ICMP6 = 6, 17, 1, 58
FIRST_FRAGMENT = ((0, 0),)
# Ports exist only for these protocols: a port condition pins the protocol to them.
PORT_PROTOCOL_SET = iv.from_values(PORT_PROTOCOLS)


def protocol_number(name: str) -> int | None:
    """The IP protocol number of a ``-p`` value (None for ``all``)."""
    name = name.lower()
    if name in PROTOCOLS:
        return PROTOCOLS[name]
    if name.isdigit():
        number = int(name)
        return None if number == 0 else number
    raise ValueError(f"unknown protocol {name!r}")


def protocol_name(number: int) -> str:
    return PROTOCOL_NAMES.get(number, str(number))


def iface_code(name: str) -> int:
    """A name as a 128-bit integer: byte order is integer order, 0 is no interface."""
    data = name.encode("utf-8", "replace")[:IFNAME_BYTES - 1]
    return int.from_bytes(data.ljust(IFNAME_BYTES, b"\0"), "big")


def iface_name(code: int) -> str:
    return code.to_bytes(IFNAME_BYTES, "big").rstrip(b"\0").decode("utf-8", "replace")


@lru_cache(maxsize=4096)
def iface_intervals(name: str) -> iv.Intervals:
    """``eth0`` is one name; ``eth+`` every name starting ``eth`` (``+`` alone: any)."""
    if name.endswith("+"):
        prefix = name[:-1].encode("utf-8", "replace")[:IFNAME_BYTES - 1]
        lo = int.from_bytes(prefix.ljust(IFNAME_BYTES, b"\0"), "big")
        hi = int.from_bytes(prefix.ljust(IFNAME_BYTES, b"\xff"), "big")
        return ((lo, hi),)
    code = iface_code(name)
    return ((code, code),)


def _addr_intervals(cond: Addr) -> iv.Intervals:
    lo, hi = cond.bounds()
    return ((lo, hi),)


def _flags_intervals(cond: TcpFlags) -> iv.Intervals:
    mask = sum(TCP_FLAG_BITS.get(f, 0) for f in _expand_flags(cond.mask))
    comp = sum(TCP_FLAG_BITS.get(f, 0) for f in _expand_flags(cond.comp))
    return iv.from_values(v for v in range(64) if v & mask == comp)


def _expand_flags(names) -> set[str]:
    out = set()
    for name in names:
        name = name.upper()
        if name == "ALL":
            out.update(TCP_FLAG_BITS)
        elif name != "NONE":
            out.add(name)
    return out


def _icmp_intervals(cond: Icmp) -> iv.Intervals:
    if cond.type is None:
        return ((0, 65535),)
    if cond.code is None:
        return ((cond.type * 256, cond.type * 256 + 255),)
    value = cond.type * 256 + cond.code
    return ((value, value),)


def _state_intervals(cond: State) -> iv.Intervals:
    out: iv.Intervals = ()
    for name in cond.states:
        out = iv.union(out, state_codes(name))
    return out


def _restrict(u: Universe, field: int, value: iv.Intervals, negated: bool) -> dict[int, iv.Intervals]:
    return {field: u.complement_field(field, value) if negated else value}


def cond_cubes(cond, u: Universe) -> list[dict[int, iv.Intervals]] | None:
    """One condition as a union of partial cubes ({field: set}); None when unmodelled."""
    if isinstance(cond, Proto):
        number = protocol_number(cond.name)
        if number is None:  # -p all
            return [{}] if not cond.negated else []
        return [_restrict(u, PROTO, ((number, number),), cond.negated)]
    if isinstance(cond, Addr):
        return [_restrict(u, SRC if cond.field == "src" else DST, _addr_intervals(cond), cond.negated)]
    if isinstance(cond, Iface):
        return [_restrict(u, IIF if cond.field == "in" else OIF, iface_intervals(cond.name), cond.negated)]
    if isinstance(cond, State):
        return [_restrict(u, STATE, _state_intervals(cond), cond.negated)]
    if isinstance(cond, Ports):
        return _ports_cubes(cond, u)
    if isinstance(cond, Icmp):
        proto = ICMP4 if cond.version == 4 else ICMP6
        part = _restrict(u, ICMP, _icmp_intervals(cond), cond.negated)
        part[PROTO] = ((proto, proto),)
        part[FRAG] = FIRST_FRAGMENT
        return [part]
    if isinstance(cond, TcpFlags):
        part = _restrict(u, FLAGS, _flags_intervals(cond), cond.negated)
        part[PROTO] = ((TCP, TCP),)
        part[FRAG] = FIRST_FRAGMENT
        return [part]
    if isinstance(cond, Fragment):
        return [_restrict(u, FRAG, ((1, 1),), cond.negated)]
    return None  # Opaque, Rate


def _ports_cubes(cond: Ports, u: Universe) -> list[dict[int, iv.Intervals]]:
    ports = iv.normalize(cond.ranges)
    if cond.field == "ports":  # multiport --ports: source or destination port
        if cond.negated:
            rest = iv.complement(ports, 65535)
            return [{SPORT: rest, DPORT: rest, FRAG: FIRST_FRAGMENT}]
        return [{SPORT: ports, FRAG: FIRST_FRAGMENT}, {DPORT: ports, FRAG: FIRST_FRAGMENT}]
    field = SPORT if cond.field == "sport" else DPORT
    part = _restrict(u, field, ports, cond.negated)
    part[FRAG] = FIRST_FRAGMENT
    return [part]


def match_space(match: Match, family: int) -> Space:
    """The packets the rule's modelled conditions accept (opaque ones are ignored)."""
    u = universe(family)
    cubes: list[list[iv.Intervals]] = [list(u.full)]
    for cond in match.conds:
        parts = cond_cubes(cond, u)
        if parts is None:
            continue
        if isinstance(cond, Ports):
            for part in parts:
                part.setdefault(PROTO, PORT_PROTOCOL_SET)
        cubes = _apply(cubes, parts)
        if not cubes:
            return []
    return [tuple(c) for c in cubes]


def _apply(cubes: list[list[iv.Intervals]], parts) -> list[list[iv.Intervals]]:
    out = []
    for cube in cubes:
        for part in parts:
            new = list(cube)
            for field, value in part.items():
                cur = new[field]
                new[field] = iv.intersect(cur, value)
                if not new[field]:
                    break
            else:
                out.append(new)
    if len(parts) > 1 and len(out) > 1:
        from .space import normalize

        return [list(c) for c in normalize([tuple(c) for c in out])]
    return out


def is_opaque(match: Match) -> bool:
    return any(isinstance(c, (Opaque, Rate)) for c in match.conds)

