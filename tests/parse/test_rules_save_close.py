"""The end-of-table checks (loops, target places): the one-pass reach over a jump graph
without loops gives what the per-chain search gives, and the findings are the same."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from fwc.parse import rules_save
from fwc.parse.rules_save import _callers_first, _Reach, _ReachAll, _TableBuild, _ChainBuild, read_rules
from fwc.source import Span

_BUILTINS = ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")
_TARGETS = ("DNAT --to-destination 10.0.0.1", "MASQUERADE", "SNAT --to-source 10.0.0.2", "ACCEPT",
            "REDIRECT", "NETMAP --to 10.0.0.0/8")

_graphs = st.tuples(
    st.integers(2, 9),
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, 8)), max_size=30),  # jumps
    st.lists(st.tuples(st.integers(0, 12), st.integers(0, len(_TARGETS) - 1)), max_size=12),
    st.booleans())  # allow jumps back (loops)


def _dump(graph) -> str:
    n, jumps, places, loops = graph
    users = [f"U{i}" for i in range(n)]
    names = list(_BUILTINS) + users
    lines = ["*nat"] + [f":{b} ACCEPT [0:0]" for b in _BUILTINS] + [f":{u} - [0:0]" for u in users]
    for a, b in jumps:
        source = names[a % len(names)]
        callee = users[b % n]
        if not loops and source in users and users.index(source) >= users.index(callee):
            continue
        lines.append(f"-A {source} -j {callee}")
    for a, t in places:
        lines.append(f"-A {names[a % len(names)]} -p tcp -j {_TARGETS[t]}")
    return "\n".join(lines + ["COMMIT", ""])


def _findings(result):
    return [(d.code, d.span.line, d.span.col, d.message) for d in result.diagnostics]


@settings(max_examples=300, deadline=None)
@given(_graphs)
def test_places_and_loops_are_found_as_the_per_chain_search_finds_them(graph):
    text = _dump(graph)
    fast = read_rules(text, "rules.v4")
    original = rules_save._callers_first
    rules_save._callers_first = lambda callees, chains=None: None  # always the search and _Reach
    try:
        reference = read_rules(text, "rules.v4")
    finally:
        rules_save._callers_first = original
    assert _findings(fast) == _findings(reference)


def _table(edges: dict[str, list[str]]) -> _TableBuild:
    table = _TableBuild("nat", 1, Span("t", 1, 1, 1, 2))
    for name in {*edges, *(c for out in edges.values() for c in out)}:
        table.chains[name] = _ChainBuild(name, "ACCEPT" if name in _BUILTINS else None, 1, None)
    return table


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.integers(0, 6)), max_size=40))
def test_one_pass_reach_equals_the_per_chain_search_without_loops(pairs):
    names = list(_BUILTINS) + [f"U{i}" for i in range(7)]
    edges: dict[str, list[str]] = {}
    for a, b in pairs:
        source, callee = names[a], f"U{b}"
        if source.startswith("U") and int(source[1:]) >= b:
            continue  # user chains jump only forward: no loop
        edges.setdefault(source, []).append(callee)
    table = _table(edges)
    walked = _callers_first(edges, table.chains)
    assert walked is not None
    everything, one_by_one = _ReachAll(walked[1]), _Reach(table, edges)
    for name in table.chains:
        if table.chains[name].policy is None:
            assert everything(name) == one_by_one(name), name


def test_callers_first_puts_callers_first_and_sees_loops():
    edges = {"INPUT": ["A", "B"], "A": ["C"], "B": ["C", "A"], "C": []}
    order, reach = _callers_first(edges)
    assert reach is None and set(order) == {"INPUT", "A", "B", "C"}
    for source, out in edges.items():
        assert all(order.index(source) < order.index(c) for c in out)
    assert _callers_first({"INPUT": ["A"], "A": ["B"], "B": ["A"]}) is None
    assert _callers_first({"A": ["A"]}) is None


def test_a_target_reached_from_a_forbidden_chain_is_reported_once_per_rule():
    text = "\n".join(["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":A - [0:0]",
                      ":B - [0:0]", ":C - [0:0]", "-A PREROUTING -j A", "-A POSTROUTING -j B",
                      "-A A -j C", "-A B -j C", "-A C -p tcp -j DNAT --to-destination 10.0.0.1",
                      "-A A -p tcp -j DNAT --to-destination 10.0.0.1", "COMMIT"]) + "\n"
    found = [(d.code, d.span.line) for d in read_rules(text, "rules.v4").diagnostics]
    assert found == [("FW012", 11)]
