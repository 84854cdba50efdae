"""The lowering's inline fast paths give the packet set the general path gives.

A conjunction does not depend on the order of its conditions, and the fast paths only
apply to a condition on a still-free field: so lowering the conditions in the other
order (which takes the general path for the port match) must give the same set.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis.compile import match_space
from fwc.analysis.space import DPORT, FRAG, PROTO, SPORT, universe
from fwc.model import Addr, Fragment, Match, Ports, Proto

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
