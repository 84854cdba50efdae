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
from itertools import compress
from operator import ne

from ..model import Addr, Fragment, Icmp, Iface, Match, Opaque, Ports, Proto, Rate, State, TcpFlags
from . import intervals as iv
from .space import (DPORT, DST, FLAGS, FRAG, ICMP, IFNAME_BYTES, IIF, NFIELDS, OIF, PROTO, SPORT,
                    SRC, STATE, TCP_FLAG_BITS, Space, Universe, state_codes, universe)

PROTOCOLS = {
    "all": None, "ip": 0, "hopopt": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "tcp": 6, "egp": 8,
    "udp": 17, "ipv6": 41, "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47,
    "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-icmpv6": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ospf": 89, "ospfigp": 89, "vrrp": 112, "l2tp": 115, "sctp": 132,
    "mh": 135, "ipv6-mh": 135, "udplite": 136, "mpls-in-ip": 137,
}
PROTOCOL_NAMES = {6: "tcp", 17: "udp", 33: "dccp", 1: "icmp", 58: "icmpv6", 132: "sctp", 136: "udplite",
                  50: "esp", 51: "ah", 47: "gre", 2: "igmp", 41: "ipv6", 112: "vrrp", 89: "ospf"}
PORT_PROTOCOLS = (6, 17, 33, 132, 136)  # tcp udp dccp sctp udplite: the protocols with ports
TCP, UDP, ICMP4, ICMP6 = 6, 17, 1, 58
FIRST_FRAGMENT = ((0, 0),)
# Ports exist only for these protocols: a port condition pins the protocol to them.
PORT_PROTOCOL_SET = iv.from_values(PORT_PROTOCOLS)
_PORT_PROTOCOL_NUMBERS = frozenset(PORT_PROTOCOLS)


def protocol_number(name: str) -> int | None:
    """The IP protocol number of a ``-p`` value (None for ``all``); ValueError when fwc
    has no number for the name."""
    name = name.lower()
    if name in PROTOCOLS:
        return PROTOCOLS[name] or None  # "ip" / "hopopt" are 0: every protocol
    if name.isdigit():
        number = int(name)
        return None if number == 0 else number
    number = _reader_protocol_number(name)
    if number < 0:
        raise ValueError(f"unknown protocol {name!r}")
    return number or None


def _reader_protocol_number(name: str) -> int:
    """The rules-save reader's full table (iptables' own names and /etc/protocols)."""
    try:
        from ..parse.ipt_values import protocol_number as reader_number
    except ImportError:
        return -1
    return reader_number(name)


def known_protocol(cond: Proto) -> bool:
    try:
        protocol_number(cond.name)
    except ValueError:
        return False
    return True


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


# An address condition's interval, by the condition's identity: the readers intern
# conditions (a 100k-rule policy holds ~40k distinct ones among ~290k uses) and the
# ipaddress conversions cost more than the lookup. The entry keeps the condition alive
# (its id is not reused while cached).
_ADDR_INTERVALS: dict[int, tuple[Addr, iv.Intervals]] = {}


def addr_intervals(cond: Addr) -> iv.Intervals:
    """The addresses of a network or range condition (negation aside)."""
    entry = _ADDR_INTERVALS.get(id(cond))
    if entry is not None and entry[0] is cond:
        return entry[1]
    if len(_ADDR_INTERVALS) > 1_000_000:
        _ADDR_INTERVALS.clear()
    value = _network_intervals(cond)
    _ADDR_INTERVALS[id(cond)] = (cond, value)
    return value


def _network_intervals(cond: Addr) -> iv.Intervals:
    value = cond.value
    if isinstance(value, tuple):
        return ((int(value[0]), int(value[1])),)
    # Not value.broadcast_address: ipaddress builds it through two cached properties.
    lo = int(value.network_address)
    return ((lo, lo | ((1 << (value.max_prefixlen - value.prefixlen)) - 1)),)


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


def _ports_cubes(cond: Ports, u: Universe) -> list[dict[int, iv.Intervals]]:
    ports = iv.normalize(cond.ranges)
    if cond.field == "ports":  # multiport --ports: source or destination port
        if cond.negated:
            rest = iv.complement(ports, 65535)
            return [{SPORT: rest, DPORT: rest, FRAG: FIRST_FRAGMENT}]
        return [{SPORT: ports, FRAG: FIRST_FRAGMENT}, {DPORT: ports, FRAG: FIRST_FRAGMENT}]
    field = SPORT if cond.field == "sport" else DPORT
    return [{field: _negate(u, field, ports, cond.negated), FRAG: FIRST_FRAGMENT}]


def match_space(match: Match, family: int) -> Space:
    """The packets the rule's modelled conditions accept (opaque ones are ignored)."""
    return list(lower_match(match, family)[0])


def lower_match(match: Match, family: int) -> tuple[tuple, bool]:
    """(the packets the modelled conditions accept as a tuple of cubes, whether the
    match has an opaque condition: see :func:`is_opaque`)."""
    space, opaque, _ = lower_match_fields(match, family)
    return space, opaque


def lower_match_fields(match: Match, family: int) -> tuple[tuple, bool, tuple]:
    """:func:`lower_match`'s (cubes, opaque) and the fields a single cube restricts
    (those not equal to the universe's: ``()`` for the full cube, and for no cube or
    several), which the rule-order analysis asks of every rule.

    Written for speed (it runs once per rule): the cube is narrowed in place, field by
    field, and only multiport ``--ports`` (either port) splits it in two at the end.
    Opaqueness is found on the way (only conditions off the fast paths can be opaque),
    not by a second pass over the conditions; so are the restricted fields, while only
    the fast paths (each on a still-free field) have run.
    """
    u = universe(family)
    full = u.full
    cube = list(full)
    either = []
    opaque = False
    narrowed = []  # the fields the fast paths narrowed, in condition order
    slow = False  # a condition took the general path: the fields are found at the end
    for cond in match.conds:
        kind = type(cond)
        # Inline fast paths for the usual conditions on a still-free field.
        if kind is Addr and not cond.negated:
            field = SRC if cond.field == "src" else DST
            if cube[field] is full[field]:
                known = _ADDR_INTERVALS.get(id(cond))  # addr_intervals(), without a call
                value = known[1] if known is not None and known[0] is cond else addr_intervals(cond)
                cube[field] = value
                if value != full[field]:  # (not -s 0.0.0.0/0)
                    narrowed.append(field)
                continue
        elif kind is Proto and not cond.negated and cube[PROTO] is full[PROTO]:
            number = PROTOCOLS.get(cond.name, -1)
            if number is not None and number > 0:  # a known protocol: not opaque
                cube[PROTO] = ((number, number),)
                narrowed.append(PROTO)
                continue
        elif kind is Ports and not cond.negated and cond.field != "ports":
            # One port range after `-p tcp` (or another port protocol) on free fields:
            # the protocol already is inside the port protocols, only the port and the
            # fragment (first) narrow. What _lower_ports gives, without intersections.
            ranges = cond.ranges
            field = DPORT if cond.field == "dport" else SPORT
            proto = cube[PROTO]
            if (len(ranges) == 1 and 0 <= ranges[0][0] <= ranges[0][1] <= 65535
                    and cube[field] is full[field] and cube[FRAG] is full[FRAG]
                    and len(proto) == 1 and proto[0][0] == proto[0][1]
                    and proto[0][0] in _PORT_PROTOCOL_NUMBERS):
                cube[field] = ranges
                cube[FRAG] = FIRST_FRAGMENT
                if ranges != full[field]:  # (not 0:65535)
                    narrowed.append(field)
                narrowed.append(FRAG)
                continue
        slow = True
        if not opaque and _is_opaque_condition(cond):
            opaque = True
        lower = _LOWER.get(kind)
        if lower is None:
            continue  # Rate: not modelled
        if lower(cond, cube, u, either) is False:
            return (), is_opaque(match), ()  # the later conditions may be opaque too
    if not either:
        cube = tuple(cube)
        return (cube,), opaque, _restricted(cube, full) if slow else tuple(narrowed)
    cubes = [cube]
    for parts in either:
        cubes = _apply(cubes, parts)
    space = tuple(tuple(c) for c in cubes)
    return space, opaque, _restricted(space[0], full) if len(space) == 1 else ()


def _restricted(cube: tuple, full: tuple) -> tuple:
    """The fields where ``cube`` differs from the full cube, in field order."""
    return tuple(compress(_FIELD_NUMBERS, map(ne, cube, full)))


_FIELD_NUMBERS = tuple(range(NFIELDS))


def _narrow(cube: list, field: int, value: iv.Intervals) -> bool:
    cur = cube[field]
    if len(cur) == 1 and len(value) == 1 and cur[0][0] <= value[0][0] and value[0][1] <= cur[0][1]:
        cube[field] = value  # the usual case: a condition inside a so-far-free field
        return True
    cube[field] = iv.intersect(cur, value)
    return bool(cube[field])


def _negate(u: Universe, field: int, value: iv.Intervals, negated: bool) -> iv.Intervals:
    return u.complement_field(field, value) if negated else value


def _lower_proto(cond: Proto, cube, u, either) -> bool:
    try:
        number = protocol_number(cond.name)
    except ValueError:
        return True  # not modelled: is_opaque() says so, the rule covers nothing
    if number is None:  # -p all
        return not cond.negated
    return _narrow(cube, PROTO, _negate(u, PROTO, ((number, number),), cond.negated))


def _lower_addr(cond: Addr, cube, u, either) -> bool:
    field = SRC if cond.field == "src" else DST
    return _narrow(cube, field, _negate(u, field, addr_intervals(cond), cond.negated))


def _lower_iface(cond: Iface, cube, u, either) -> bool:
    field = IIF if cond.field == "in" else OIF
    return _narrow(cube, field, _negate(u, field, iface_intervals(cond.name), cond.negated))


def _lower_state(cond: State, cube, u, either) -> bool:
    return _narrow(cube, STATE, _negate(u, STATE, _state_intervals(cond), cond.negated))


def _lower_ports(cond: Ports, cube, u, either) -> bool:
    if cond.field == "ports":  # either port: two cubes, joined at the end
        parts = _ports_cubes(cond, u)
        for part in parts:
            part.setdefault(PROTO, PORT_PROTOCOL_SET)
        if len(parts) > 1:
            either.append(parts)
            return True
        return all(_narrow(cube, field, value) for field, value in parts[0].items())
    ranges = cond.ranges
    ports = ranges if len(ranges) == 1 and ranges[0][0] <= ranges[0][1] else iv.normalize(ranges)
    field = SPORT if cond.field == "sport" else DPORT
    return (_narrow(cube, field, _negate(u, field, ports, cond.negated))
            and _narrow(cube, PROTO, PORT_PROTOCOL_SET) and _narrow(cube, FRAG, FIRST_FRAGMENT))


def _lower_icmp(cond: Icmp, cube, u, either) -> bool:
    proto = ICMP4 if cond.version == 4 else ICMP6
    return (_narrow(cube, ICMP, _negate(u, ICMP, _icmp_intervals(cond), cond.negated))
            and _narrow(cube, PROTO, ((proto, proto),)) and _narrow(cube, FRAG, FIRST_FRAGMENT))


def _lower_flags(cond: TcpFlags, cube, u, either) -> bool:
    return (_narrow(cube, FLAGS, _negate(u, FLAGS, _flags_intervals(cond), cond.negated))
            and _narrow(cube, PROTO, ((TCP, TCP),)) and _narrow(cube, FRAG, FIRST_FRAGMENT))


def _lower_fragment(cond: Fragment, cube, u, either) -> bool:
    return _narrow(cube, FRAG, _negate(u, FRAG, ((1, 1),), cond.negated))


_LOWER = {Proto: _lower_proto, Addr: _lower_addr, Iface: _lower_iface, State: _lower_state,
          Ports: _lower_ports, Icmp: _lower_icmp, TcpFlags: _lower_flags,
          Fragment: _lower_fragment}


def _apply(cubes: list[list[iv.Intervals]], parts) -> list[list[iv.Intervals]]:
    out = []
    for cube in cubes:
        for part in parts:
            new = list(cube)
            if all(_narrow(new, field, value) for field, value in part.items()):
                out.append(new)
    if len(parts) > 1 and len(out) > 1:
        from .space import normalize

        return [list(c) for c in normalize([tuple(c) for c in out])]
    return out


def is_opaque(match: Match) -> bool:
    """A condition the analysis cannot decide: an unmodelled match, a rate limit, or a
    protocol fwc has no number for."""
    for c in match.conds:  # a plain loop, not any(<generator>): this runs for every rule
        if _is_opaque_condition(c):
            return True
    return False


def _is_opaque_condition(c) -> bool:
    kind = type(c)
    if kind is Proto:
        return not known_protocol(c)
    return isinstance(c, (Opaque, Rate)) and not _is_bare_port_module(c)


PORT_MODULES = frozenset({"tcp", "udp", "dccp", "sctp", "udplite"})


def _is_bare_port_module(cond) -> bool:
    """``-m tcp`` with no option (the reader keeps it as an option-less Opaque)."""
    return type(cond) is Opaque and not cond.args and not cond.negated and cond.module in PORT_MODULES


def _lower_opaque(cond: Opaque, cube, u, either) -> bool:
    if not _is_bare_port_module(cond):
        return True  # not modelled: is_opaque() says so
    return _narrow(cube, PROTO, PORT_PROTOCOL_SET) and _narrow(cube, FRAG, FIRST_FRAGMENT)


_LOWER[Opaque] = _lower_opaque

