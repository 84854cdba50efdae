"""Rule-order findings checked against packets, on random chains.

For every rule FW201/FW202/FW204 call dead, no packet of a grid that covers every value
the random rules use (and the values between them) may reach it; for FW202 the earlier
rule that takes each such packet must have the same target. FW209 rules must match no
grid packet. Reaching is decided by walking the chain's rules in order, the way
:func:`fwc.analysis.chains.evaluate` does for one packet.
"""

from __future__ import annotations

import ipaddress
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis.anomalies import (AFTER_CATCH_ALL, REDUNDANT, SHADOWED, UNMATCHABLE,
                                    analyse_chain)
from fwc.analysis.chains import CONTINUE, JUMP, rule_matches, target_kind
from fwc.analysis.packet import Packet
from fwc.model import Addr, Chain, Iface, Match, Opaque, Ports, Proto, Rule, State, Table, Target

SOURCES = ["10.0.0.0/30", "10.0.0.0/31", "10.0.0.2/32", "10.0.0.0/29", "10.0.0.4/30"]
PORTS = [(20, 22), (22, 22), (21, 25), (23, 25), (20, 30)]
GRID_SRC = [int(ipaddress.ip_address(f"10.0.0.{i}")) for i in range(0, 9)]
GRID_PORT = list(range(19, 32))


@st.composite
def rules(draw):
    conds = []
    if draw(st.booleans()):
        conds.append(Addr("src", ipaddress.ip_network(draw(st.sampled_from(SOURCES))),
                          negated=draw(st.booleans())))
    if draw(st.booleans()):
        conds.append(Iface("in", draw(st.sampled_from(["eth0", "eth+", "lo"])),
                           negated=draw(st.booleans())))
    proto = draw(st.sampled_from(["tcp", "udp", None]))
    if proto:
        conds.append(Proto(proto))
        if draw(st.booleans()):
            conds.append(Ports("dport", (draw(st.sampled_from(PORTS)),),
                               negated=draw(st.booleans()), module=proto))
        if draw(st.integers(0, 4)) == 0:
            conds.append(Ports("dport", (draw(st.sampled_from(PORTS)),), module="multiport"))
    if draw(st.integers(0, 3)) == 0:
        conds.append(State(frozenset(draw(st.sets(st.sampled_from(["NEW", "ESTABLISHED"]),
                                                  min_size=1))), negated=draw(st.booleans())))
    if draw(st.integers(0, 5)) == 0:
        conds.append(Opaque("recent", ("--rcheck",)))
    target = draw(st.sampled_from(["ACCEPT", "DROP", "REJECT", "LOG", "SUB", None]))
    return Rule("INPUT", Match(tuple(conds)), Target(target) if target else None)


def grid():
    for src, port, proto, iif, state in itertools.product(
            GRID_SRC, GRID_PORT, (6, 17, 1), ("eth0", "eth1", "lo", "wlan0"), (2, 6)):
        yield Packet(family=4, proto=proto, src=src, dst=1, sport=1000, dport=port, iif=iif,
                     state=state)


# A chain that always decides (LOG, then DROP): a jump to it ends the walk.
LOGDROP = Chain("SUB", None, (Rule("SUB", Match(), Target("LOG")), Rule("SUB", Match(), Target("DROP"))))


def decider(table: Table, chain: Chain, packet: Packet, upto: int) -> Rule | None:
    """The earlier rule that certainly ends the walk of ``packet`` before rule ``upto``."""
    values = packet.values()
    for rule in chain.rules[:upto - 1]:
        kind = target_kind(rule, table)
        if kind == CONTINUE or (kind == JUMP and table.chain("SUB") is not LOGDROP) \
                or rule.match.is_opaque:
            continue
        if rule_matches(rule, values, 4):
            return rule
    return None


@settings(max_examples=150, deadline=None)
@given(st.lists(rules(), min_size=1, max_size=8), st.booleans())
def test_dead_rule_findings_are_true_for_every_grid_packet(body, sub_always_drops):
    chain = Chain("INPUT", "DROP", tuple(body))
    table = Table("filter", (chain, LOGDROP if sub_always_drops else Chain("SUB", None, ())))
    packets = list(grid())
    for anomaly in analyse_chain(table, chain, 4):
        index, rule = anomaly.ref.index, anomaly.ref.rule
        mine = [p for p in packets if rule_matches(rule, p.values(), 4)]
        if anomaly.kind == UNMATCHABLE:
            assert not mine
        if anomaly.kind not in (SHADOWED, REDUNDANT, AFTER_CATCH_ALL):
            continue
        for packet in mine:
            taken_by = decider(table, chain, packet, index)
            assert taken_by is not None, f"{anomaly.kind} rule {index} reached by {packet}"
            if anomaly.kind == REDUNDANT:
                assert taken_by.target == rule.target
