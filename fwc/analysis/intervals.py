"""Sets of integers as sorted, disjoint, non-adjacent inclusive intervals.

A set is a tuple of ``(lo, hi)`` pairs, e.g. ``((22, 22), (80, 443))``; the empty set is
``()``. Every packet field the analysis models (addresses, ports, protocol numbers,
interface names, conntrack states, ICMP type/code, TCP flags) is an integer in a known
domain ``0..top``, so one representation and one set of operations serves them all.
Tuples are hashable and cheap to compare, and rule conditions are nearly always one
interval, so the common paths below are single-interval fast paths.
"""

from __future__ import annotations

Intervals = tuple[tuple[int, int], ...]

EMPTY: Intervals = ()


def normalize(pairs) -> Intervals:
    """Sort and merge overlapping or adjacent pairs (lo > hi pairs are dropped)."""
    items = sorted((lo, hi) for lo, hi in pairs if lo <= hi)
    out: list[list[int]] = []
    for lo, hi in items:
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    if len(a) == 1 and len(b) == 1:
        lo = a[0][0] if a[0][0] > b[0][0] else b[0][0]
        hi = a[0][1] if a[0][1] < b[0][1] else b[0][1]
        return ((lo, hi),) if lo <= hi else EMPTY
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def overlaps(a: Intervals, b: Intervals) -> bool:
    if len(a) == 1 and len(b) == 1:
        return a[0][0] <= b[0][1] and b[0][0] <= a[0][1]
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][0] <= b[j][1] and b[j][0] <= a[i][1]:
            return True
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return False


def subtract(a: Intervals, b: Intervals) -> Intervals:
    out = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            if cur > hi:
                break
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def union(a: Intervals, b: Intervals) -> Intervals:
    if not a:
        return b
    if not b:
        return a
    return normalize(a + b)


def contains(a: Intervals, b: Intervals) -> bool:
    """True when every element of ``b`` is in ``a``."""
    if len(a) == 1:
        return not b or (a[0][0] <= b[0][0] and b[-1][1] <= a[0][1])
    return not subtract(b, a)


def complement(a: Intervals, top: int) -> Intervals:
    return subtract(((0, top),), a)


def member(a: Intervals, value: int) -> bool:
    for lo, hi in a:
        if value < lo:
            return False
        if value <= hi:
            return True
    return False


def size(a: Intervals) -> int:
    return sum(hi - lo + 1 for lo, hi in a)


def from_values(values) -> Intervals:
    return normalize((v, v) for v in values)
