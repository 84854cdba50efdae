"""The packet-set algebra against brute force on small universes.

Interval sets are checked against Python sets over 0..15; cube spaces against explicit
sets of points over a universe where every field is squeezed into a tiny domain (the
operations never look at a field's top except to complement it, so a small top is a
faithful model of the large one).
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis import intervals as iv
from fwc.analysis import space as sp

TOP = 15
VALUES = range(TOP + 1)


@st.composite
def interval_sets(draw, top=TOP, min_size=0):
    values = draw(st.sets(st.integers(0, top), min_size=min_size, max_size=top + 1))
    return iv.from_values(values)


def as_set(intervals) -> set[int]:
    return {v for lo, hi in intervals for v in range(lo, hi + 1)}


@given(interval_sets(), interval_sets())
def test_interval_operations_agree_with_sets(a, b):
    sa, sb = as_set(a), as_set(b)
    assert as_set(iv.intersect(a, b)) == sa & sb
    assert as_set(iv.subtract(a, b)) == sa - sb
    assert as_set(iv.union(a, b)) == sa | sb
    assert iv.overlaps(a, b) == bool(sa & sb)
    assert iv.contains(a, b) == (sb <= sa)
    assert as_set(iv.complement(a, TOP)) == set(VALUES) - sa
    assert all(iv.member(a, v) == (v in sa) for v in VALUES)


@given(interval_sets(), interval_sets())
def test_interval_results_are_canonical(a, b):
    for result in (iv.intersect(a, b), iv.subtract(a, b), iv.union(a, b)):
        assert result == iv.normalize(result)
        assert all(lo <= hi for lo, hi in result)
        assert all(x[1] + 1 < y[0] for x, y in zip(result, result[1:]))


# Cubes over three fields with domain 0..3 each (the other fields pinned to one value).
SMALL = 3
FREE = (sp.DST, sp.DPORT, sp.STATE)
U = sp.universe(4)


def small_cube(draw):
    fields = list(U.full)
    for f in range(sp.NFIELDS):
        fields[f] = ((0, 0),)
    for f in FREE:
        fields[f] = draw(interval_sets(SMALL, min_size=1))  # cubes are never empty
    return tuple(fields)


cubes = st.composite(lambda draw: small_cube(draw))()
spaces = st.lists(cubes, max_size=4)


def points(space) -> set[tuple]:
    out = set()
    for cube in space:
        out |= set(itertools.product(*(sorted(as_set(cube[f])) for f in FREE)))
    return out


def disjoint(space) -> bool:
    return all(not sp.cube_overlaps(a, b) for a, b in itertools.combinations(space, 2))


@settings(max_examples=300)
@given(spaces, spaces)
def test_space_operations_agree_with_point_sets(s, t):
    s = sp.normalize(s)
    t = sp.normalize(t)
    ps, pt = points(s), points(t)
    assert points(sp.intersect(s, t)) == ps & pt
    assert points(sp.subtract(s, t)) == ps - pt
    assert points(sp.union(s, t)) == ps | pt
    assert sp.overlaps(s, t) == bool(ps & pt)
    assert sp.contains(s, t) == (pt <= ps)
    assert (not sp.subtract(s, t)) == (ps <= pt)
    for result in (sp.subtract(s, t), sp.union(s, t), sp.normalize(s + t)):
        assert disjoint(result)


@given(cubes, cubes)
def test_cube_subtraction_is_exact_and_disjoint(a, b):
    pieces = sp.cube_subtract(a, b)
    assert points(pieces) == points([a]) - points([b])
    assert disjoint(pieces)
    assert sp.cube_contains(a, b) == (points([b]) <= points([a]))


@given(spaces)
def test_hull_and_projection_over_approximate(s):
    s = sp.normalize(s)
    if not s:
        return
    assert points(s) <= points([sp.hull(s)])
    assert as_set(sp.project(s, sp.DPORT)) == {p[1] for p in points(s)}
