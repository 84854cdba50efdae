"""Packet sets: unions of cubes, one interval set per packet field.

Why cubes. A rule's match is a conjunction of conditions, each on one field, and each
condition (a CIDR, an address range, a port list, an interface with a ``+`` wildcard,
a set of conntrack states, an ICMP type/code) is a union of integer intervals on that
field, negations included (the complement of an interval set is an interval set). So a
rule is exactly one *cube*: the product of one interval set per field (multiport
``--ports``, "either port", is the one condition that needs two cubes). The packets a
rule can see are a union of cubes, and intersection, subtraction, emptiness and
containment are short loops over fields. Real rulesets make this cheap: almost every
condition is one interval, almost every rule constrains two or three fields, and the
rule checks compare a rule only with the few earlier rules an index says can overlap
it (see :mod:`fwc.analysis.anomalies`). A decision diagram would give canonical forms
but costs a variable order over ~300 bits (two IPv6 addresses) and node tables that
Python builds slowly; per-rule cubes stay proportional to the rule's own size.

Fields and their integer domains (``FIELDS`` order, most selective first so overlap
tests fail early):

- ``dst``, ``src``: the address as an integer (32 or 128 bits by family);
- ``dport``, ``sport``: 0..65535;
- ``proto``: the IP protocol number 0..255;
- ``iif``, ``oif``: the interface name as a 128-bit integer: up to 15 bytes, NUL padded,
  so byte-wise order is integer order and ``eth+`` (every name starting ``eth``) is one
  interval; 0 is "no interface" (the output interface of a packet in INPUT);
- ``state``: conntrack state with the SNAT/DNAT status bits (see ``STATE_CODES``);
- ``icmp``: ``type * 256 + code``;
- ``flags``: the six TCP flags as a bit mask 0..63;
- ``frag``: 0 for an unfragmented packet or a first fragment, 1 for a later fragment.

Fields that do not exist for a packet (ports of an ICMP packet, say) are left free:
every condition on them also fixes the protocol (``--dport`` needs ``-p tcp``), so a
free field never changes whether a set is empty or covered.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from . import intervals as iv
from .intervals import Intervals

FIELDS = ("dst", "src", "dport", "sport", "proto", "iif", "oif", "state", "icmp", "flags", "frag")
DST, SRC, DPORT, SPORT, PROTO, IIF, OIF, STATE, ICMP, FLAGS, FRAG = range(len(FIELDS))
NFIELDS = len(FIELDS)

IFNAME_BYTES = 16
IFACE_TOP = (1 << (8 * IFNAME_BYTES)) - 1

# Conntrack states. INVALID and UNTRACKED have no NAT status; the tracked states carry
# two status bits (+2 DNAT: the original destination was rewritten, +1 SNAT).
STATE_BASE = {"INVALID": 0, "UNTRACKED": 1, "NEW": 2, "ESTABLISHED": 6, "RELATED": 10}
STATE_TOP = 13
TCP_FLAG_BITS = {"FIN": 1, "SYN": 2, "RST": 4, "PSH": 8, "ACK": 16, "URG": 32}

Cube = tuple  # NFIELDS interval sets
Space = list  # disjoint cubes


def state_codes(name: str) -> Intervals:
    """The codes of one conntrack state name (SNAT/DNAT are status bits)."""
    name = name.upper()
    if name in ("INVALID", "UNTRACKED"):
        return ((STATE_BASE[name], STATE_BASE[name]),)
    if name in STATE_BASE:
        base = STATE_BASE[name]
        return ((base, base + 3),)
    if name in ("DNAT", "SNAT"):
        bit = 2 if name == "DNAT" else 1
        return iv.from_values(b + k for b in (2, 6, 10) for k in range(4) if k & bit)
    raise ValueError(f"unknown conntrack state {name!r}")


def state_name(code: int) -> str:
    for name, base in STATE_BASE.items():
        if name in ("INVALID", "UNTRACKED"):
            if code == base:
                return name.lower()
        elif base <= code <= base + 3:
            extra = [s for s, bit in (("dnat", 2), ("snat", 1)) if (code - base) & bit]
            return ",".join([name.lower(), *extra])
    raise ValueError(code)


class Universe:
    """The domains of every field for one address family."""

    def __init__(self, family: int):
        self.family = family
        addr_top = (1 << (32 if family == 4 else 128)) - 1
        self.tops = (addr_top, addr_top, 65535, 65535, 255, IFACE_TOP, IFACE_TOP, STATE_TOP,
                     65535, 63, 1)
        self.full: Cube = tuple(((0, top),) for top in self.tops)
        self._complements: dict[tuple, Intervals] = {}

    def cube(self, **fields: Intervals) -> Cube:
        """The full cube with some fields restricted (by name)."""
        cube = list(self.full)
        for name, value in fields.items():
            cube[FIELDS.index(name)] = value
        return tuple(cube)

    def complement_field(self, field: int, value: Intervals) -> Intervals:
        # Remembered: rulesets repeat their negations (kube-proxy's `! -s 10.244.0.0/16`
        # thousands of times), and a complement is a loop over intervals.
        key = (field, value)
        known = self._complements.get(key)
        if known is None:
            if len(self._complements) > 65536:
                self._complements.clear()
            known = self._complements[key] = iv.complement(value, self.tops[field])
        return known


_UNIVERSES: dict[int, Universe] = {}


def universe(family: int) -> Universe:
    if family not in _UNIVERSES:
        _UNIVERSES[family] = Universe(family)
    return _UNIVERSES[family]


# --------------------------------------------------------------------------- cubes


def cube_intersect(a: Cube, b: Cube) -> Cube | None:
    out = []
    for x, y in zip(a, b):
        if x is y or x == y:
            out.append(x)
            continue
        z = iv.intersect(x, y)
        if not z:
            return None
        out.append(z)
    return tuple(out)


def cube_overlaps(a: Cube, b: Cube) -> bool:
    for x, y in zip(a, b):
        if x is y:
            continue
        if len(x) == 1 and len(y) == 1:  # nearly always: one interval each, tested inline
            if x[0][0] > y[0][1] or y[0][0] > x[0][1]:
                return False
        elif not iv.overlaps(x, y):
            return False
    return True


def cube_contains(a: Cube, b: Cube) -> bool:
    """Every packet of ``b`` is in ``a``."""
    for x, y in zip(a, b):
        if x is not y and not iv.contains(x, y):
            return False
    return True


def cube_subtract(a: Cube, b: Cube) -> list[Cube]:
    """``a - b`` as disjoint cubes (at most one piece per field)."""
    if not cube_overlaps(a, b):
        return [a]
    pieces = []
    current = list(a)
    for i in range(NFIELDS):
        x, y = current[i], b[i]
        if x is y or iv.contains(y, x):
            continue
        rest = iv.subtract(x, y)
        if rest:
            piece = list(current)
            piece[i] = rest
            pieces.append(tuple(piece))
        current[i] = iv.intersect(x, y)
    return pieces


def cube_is_empty(cube: Cube) -> bool:
    return any(not x for x in cube)


# --------------------------------------------------------------------------- spaces


def normalize(cubes: Iterable[Cube]) -> Space:
    """Drop empty cubes and make the rest disjoint."""
    out: Space = []
    for c in cubes:
        if not cube_is_empty(c):
            out = union(out, [c])
    return out


def intersect(s: Sequence[Cube], t: Sequence[Cube]) -> Space:
    out = []
    for a in s:
        for b in t:
            c = cube_intersect(a, b)
            if c is not None:
                out.append(c)
    return out


def overlaps(s: Sequence[Cube], t: Sequence[Cube]) -> bool:
    if len(s) == 1 and len(t) == 1:  # the usual pair of single cubes: no generator
        return cube_overlaps(s[0], t[0])
    return any(cube_overlaps(a, b) for a in s for b in t)


def subtract_cube(s: Sequence[Cube], b: Cube) -> Space:
    out = []
    for a in s:
        if cube_overlaps(a, b):
            out.extend(cube_subtract(a, b))
        else:
            out.append(a)
    return out


def subtract(s: Sequence[Cube], t: Sequence[Cube]) -> Space:
    out = list(s)
    for b in t:
        if not out:
            break
        out = subtract_cube(out, b)
    return out


def union(s: Sequence[Cube], t: Sequence[Cube]) -> Space:
    return list(s) + subtract(t, s)


def contains(s: Sequence[Cube], t: Sequence[Cube]) -> bool:
    """Every packet of ``t`` is in ``s``."""
    return not subtract(t, s)


def equal(s: Sequence[Cube], t: Sequence[Cube]) -> bool:
    return contains(s, t) and contains(t, s)


def project(s: Sequence[Cube], field: int) -> Intervals:
    """The values one field takes over the set."""
    out: Intervals = ()
    for c in s:
        out = iv.union(out, c[field])
    return out


def hull(s: Sequence[Cube]) -> Cube | None:
    """The smallest cube holding the set (a sound over-approximation)."""
    if not s:
        return None
    return tuple(iv.normalize([(c[i][0][0], c[i][-1][1]) for c in s]) for i in range(NFIELDS))
