"""The lowering's inline fast paths give the packet set the general path gives.

A conjunction does not depend on the order of its conditions, and the fast paths only
apply to a condition on a still-free field: so lowering the conditions in the other
order (which takes the general path for the port match) must give the same set.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis.chains import lowered, lowered_fields
from fwc.analysis.compile import lower_match, lower_match_fields, match_space
from fwc.analysis.space import DPORT, FRAG, PROTO, SPORT, universe
from fwc.model import Addr, Fragment, Match, Ports, Proto

from model_strategies import rules

PROTOCOLS = ["tcp", "udp", "sctp", "dccp", "udplite", "icmp", "esp", "6", "17", "all"]
PORT = st.integers(0, 65535)


@st.composite
def port_matches(draw):
    proto = Proto(draw(st.sampled_from(PROTOCOLS)), negated=draw(st.integers(0, 5)) == 0)
    lo, hi = draw(PORT), draw(PORT)
    if draw(st.booleans()):
        lo, hi = min(lo, hi), max(lo, hi)
    ranges = ((lo, hi),) if draw(st.integers(0, 3)) else ((lo, lo), (hi, hi))
    ports = Ports(draw(st.sampled_from(["dport", "sport"])), ranges,
                  negated=draw(st.integers(0, 5)) == 0, module="multiport")
    extra = []
    if draw(st.integers(0, 4)) == 0:
        extra.append(Fragment(negated=draw(st.booleans())))
    if draw(st.booleans()):
        extra.append(Addr("src", ipaddress.ip_network("10.0.0.0/8")))
    return proto, ports, extra


@settings(max_examples=300, deadline=None)
@given(port_matches(), st.sampled_from([4, 6]))
def test_port_fast_path_equals_the_general_path(parts, family):
    proto, ports, extra = parts
    fast = match_space(Match((proto, ports, *extra)), family)
    general = match_space(Match((ports, proto, *extra)), family)
    assert fast == general


def test_the_usual_rule_lowers_to_one_cube():
    full = universe(4).full
    [cube] = match_space(Match((Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))), 4)
    assert cube[PROTO] == ((6, 6),)
    assert cube[DPORT] == ((22, 22),)
    assert cube[SPORT] == full[SPORT]
    assert cube[FRAG] == ((0, 0),)  # a port match sees first fragments only


def test_a_port_match_after_a_protocol_without_ports_matches_nothing():
    assert match_space(Match((Proto("icmp"), Ports("dport", ((22, 22),), module="multiport"))), 4) == []


# --------------------------------------------------------------------------- restricted fields

WHOLE = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}


@st.composite
def field_matches(draw, family):
    """Rules as the readers make them, with conditions that restrict nothing (``/0``,
    ``0:65535``) or a field twice mixed in: the cases where the fields the fast paths
    narrowed are not simply the conditions' fields."""
    conds = list(draw(rules(family, "INPUT", ())).match.conds)
    if draw(st.integers(0, 3)) == 0:
        conds.insert(draw(st.integers(0, len(conds))),
                     Addr(draw(st.sampled_from(["src", "dst"])), WHOLE[family]))
    if draw(st.integers(0, 3)) == 0:
        proto = draw(st.sampled_from(["tcp", "udp"]))
        conds += [Proto(proto), Ports("dport", ((0, 65535),), module=proto)]
    if draw(st.integers(0, 4)) == 0:
        conds.append(Ports("ports", ((80, 80),), module="multiport"))
    return Match(tuple(draw(st.permutations(conds))))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([4, 6]).flatmap(lambda f: st.tuples(st.just(f), field_matches(f))))
def test_restricted_fields_are_the_fields_that_differ_from_the_universe(case):
    family, match = case
    space, opaque, fields = lower_match_fields(match, family)
    assert (space, opaque) == lower_match(match, family)
    assert len(set(fields)) == len(fields)
    full = universe(family).full
    if len(space) == 1:
        assert sorted(fields) == [f for f in range(len(full)) if space[0][f] != full[f]]
    else:
        assert fields == ()
    # The cache gives both views of one lowering.
    assert lowered_fields(match, family) == (*lowered(match, family), fields)


def test_a_condition_on_the_whole_domain_restricts_nothing():
    match = Match((Addr("src", WHOLE[4]), Proto("tcp"), Ports("dport", ((0, 65535),), module="tcp")))
    [cube], _, fields = lower_match_fields(match, 4)
    assert sorted(fields) == [PROTO, FRAG]
