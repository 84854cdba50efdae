"""Without order dependencies the analysis finds the same dead rules, and no FW207/FW208.

The lint gate of `fwc compile` shows no info findings, so it does not ask for the order
dependencies (correlated rules, generalizations): every other anomaly must be the same.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fwc.analysis.anomalies import CORRELATED, GENERALIZATION, analyse_chain, analyse_ruleset
from fwc.checks.base import Context
from fwc.lint import lint_document
from fwc.config import Config
from fwc.diagnostics import Severity
from fwc.load import load_document
from fwc.model import Chain, Table

from test_anomalies_soundness import LOGDROP, rules

RULES = """\
*filter
:INPUT DROP [0:0]
-A INPUT -s 10.0.0.0/24 -p tcp -m tcp --dport 22 -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s 10.0.0.0/25 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -s 10.0.0.0/16 -p tcp -m tcp --dport 20:30 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 25:40 -j DROP
COMMIT
"""


def _kinds(anomalies):
    return [(a.kind, a.ref.index, [r.index for r in a.related]) for a in anomalies]


def test_the_same_anomalies_less_the_order_dependencies(tmp_path):
    path = tmp_path / "rules.v4"
    path.write_text(RULES)
    ruleset = load_document(str(path)).rulesets[0]
    every = _kinds(analyse_ruleset(ruleset))
    assert every == [("generalization", 2, [1]), ("shadowed", 3, [1]),
                     ("generalization", 4, [1]), ("correlated", 5, [4])]
    assert _kinds(analyse_ruleset(ruleset, order_dependencies=False)) == [("shadowed", 3, [1])]


def test_lint_asks_for_them_only_when_fw207_or_fw208_runs(tmp_path):
    path = tmp_path / "rules.v4"
    path.write_text(RULES)
    doc = load_document(str(path))
    shown = lint_document(doc, Config(select=("FW2",)), min_severity=Severity.WARNING)
    assert [(d.code, d.span.line) for d in shown] == [("FW201", 5)]
    every = lint_document(doc, Config(select=("FW2",)))
    assert [(d.code, d.span.line) for d in every] == [("FW208", 4), ("FW201", 5), ("FW208", 6),
                                                        ("FW207", 7)]
    one = lint_document(doc, Config(select=("FW207",)), min_severity=Severity.INFO)
    assert [(d.code, d.span.line) for d in one] == [("FW207", 7)]


@settings(max_examples=100, deadline=None)
@given(st.lists(rules(), min_size=1, max_size=8), st.booleans())
def test_other_anomalies_do_not_depend_on_them(body, sub_always_drops):
    chain = Chain("INPUT", "DROP", tuple(body))
    table = Table("filter", (chain, LOGDROP if sub_always_drops else Chain("SUB", None, ())))
    every = [a for a in analyse_chain(table, chain, 4)
             if a.kind not in (CORRELATED, GENERALIZATION)]
    fewer = analyse_chain(table, chain, 4, order_dependencies=False)
    assert _kinds(fewer) == _kinds(every)
    assert [a.witness for a in fewer] == [a.witness for a in every]
