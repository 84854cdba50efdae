"""The rule-order analysis's shortcuts give what the general path gives.

_CoverIndex.cover_by_classes remembers what the traffic classes (``-i lo``,
``--ctstate ESTABLISHED``: rules restricting only the interfaces and the state) take of
a rule, by the rule's (iif, oif, state). Turning the shortcut off must not change a
single finding: the takers listed, their order and the witness included.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis import anomalies
from fwc.analysis.anomalies import analyse_chain
from fwc.model import Addr, Chain, Iface, Match, Ports, Proto, Rule, State, Table, Target

from test_anomalies_soundness import rules

CLASSES = [
    (Iface("in", "lo"),),
    (Iface("in", "eth+"),),
    (Iface("in", "lo", negated=True),),
    (Iface("out", "eth0"),),
    (State(frozenset({"ESTABLISHED", "RELATED"})),),
    (State(frozenset({"NEW"}), negated=True),),
    (Iface("in", "eth0"), State(frozenset({"ESTABLISHED"}))),
]


@st.composite
def class_rules(draw):
    conds = draw(st.sampled_from(CLASSES))
    return Rule("INPUT", Match(conds), Target(draw(st.sampled_from(["ACCEPT", "DROP"]))))


def _findings(table, chain, order_dependencies):
    return [(a.kind, a.ref.index, [r.index for r in a.related], a.witness)
            for a in analyse_chain(table, chain, 4, order_dependencies=order_dependencies)]


@settings(max_examples=300, deadline=None)
@given(st.lists(class_rules(), min_size=1, max_size=3), st.lists(rules(), min_size=1, max_size=6),
       st.lists(class_rules(), max_size=1), st.lists(rules(), max_size=4), st.booleans())
def test_the_classes_shortcut_changes_no_finding(head, body, late, tail, order_dependencies):
    # (a class after other rules: the shortcut must step aside, and forget what it knew)
    chain = Chain("INPUT", "DROP", tuple(head + body + late + tail))
    table = Table("filter", (chain, Chain("SUB", None, ())))
    fast = _findings(table, chain, order_dependencies)
    original = anomalies._CoverIndex.cover_by_classes
    try:
        anomalies._CoverIndex.cover_by_classes = lambda self, cube: None
        general = _findings(table, chain, order_dependencies)
    finally:
        anomalies._CoverIndex.cover_by_classes = original
    assert fast == general


def test_a_rule_behind_the_loopback_and_established_accepts_is_shadowed_by_all_three():
    rules_ = (
        Rule("INPUT", Match((Iface("in", "lo"),)), Target("ACCEPT")),
        Rule("INPUT", Match((State(frozenset({"ESTABLISHED", "RELATED"})),)), Target("ACCEPT")),
        Rule("INPUT", Match((Addr("src", ipaddress.ip_network("10.0.0.0/8")),)), Target("DROP")),
        Rule("INPUT", Match((Addr("src", ipaddress.ip_network("10.1.0.0/16")), Proto("tcp"),
                             Ports("dport", ((22, 22),), module="tcp"))), Target("ACCEPT")),
    )
    chain = Chain("INPUT", "DROP", rules_)
    table = Table("filter", (chain,))
    [found] = [a for a in analyse_chain(table, chain, 4) if a.ref.index == 4]
    assert found.kind == "shadowed"
    assert [r.index for r in found.related] == [1, 2, 3]
