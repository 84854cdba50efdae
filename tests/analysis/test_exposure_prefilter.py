"""opens_ports_to_all (the rules FW301/FW304 look at) skips lowering a rule whose source
is a network; the answer is the packet-set definition's on every rule."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis import intervals as iv
from fwc.analysis import space as sp
from fwc.analysis.chains import lowered
from fwc.analysis.facts import opens_ports_to_all
from fwc.model import Addr, Match, Ports, Proto, Rule, Target

from test_anomalies_soundness import rules

PORTS = iv.from_values((22, 23, 6379))


def by_definition(rule: Rule, family: int) -> bool:
    if rule.target is None or rule.target.name != "ACCEPT" or \
            not any(isinstance(c, Ports) for c in rule.match.conds):
        return False
    space, opaque = lowered(rule.match, family)
    if opaque or not space:
        return False
    full = sp.universe(family).full
    return (all(c[sp.SRC] == full[sp.SRC] for c in space)
            and not all(c[sp.DPORT] == full[sp.DPORT] for c in space)
            and iv.overlaps(sp.project(space, sp.DPORT), PORTS))


@st.composite
def accept_rules(draw):
    rule = draw(rules())
    conds = list(rule.match.conds)
    if draw(st.booleans()):  # any, a network, or a range covering everything
        value = draw(st.sampled_from([ipaddress.ip_network("0.0.0.0/0"),
                                      ipaddress.ip_network("10.0.0.0/8"),
                                      (ipaddress.ip_address("0.0.0.0"),
                                       ipaddress.ip_address("255.255.255.255"))]))
        conds.insert(0, Addr("src", value, negated=draw(st.booleans()),
                             module="iprange" if isinstance(value, tuple) else None))
    target = draw(st.sampled_from(["ACCEPT", "ACCEPT", "DROP"]))
    return Rule("INPUT", Match(tuple(conds)), Target(target))


@settings(max_examples=300, deadline=None)
@given(accept_rules())
def test_same_answer_as_the_definition(rule):
    assert opens_ports_to_all(rule, 4, PORTS) == by_definition(rule, 4)


def test_a_rule_open_to_all_and_one_from_a_network():
    open_ = Rule("INPUT", Match((Proto("tcp"), Ports("dport", ((22, 22),), module="tcp"))),
                 Target("ACCEPT"))
    narrow = Rule("INPUT", Match((Addr("src", ipaddress.ip_network("10.0.0.0/8")),
                                  *open_.match.conds)), Target("ACCEPT"))
    assert opens_ports_to_all(open_, 4, PORTS)
    assert not opens_ports_to_all(narrow, 4, PORTS)
