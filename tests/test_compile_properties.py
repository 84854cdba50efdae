"""Generated policies: every valid policy compiles without error to rulesets the backend
can express, and the rendered text reads back to the very same model."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fwc.backends.iptables_restore import check, render
from fwc.diagnostics import Severity
from fwc.parse.policy import load_policy
from fwc.parse.rules_save import read_rules
from policy_strategies import policies


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=policies())
def test_generated_policy_renders_and_reads_back_to_the_same_model(text):
    result = load_policy("generated.fw", text=text)
    assert [d for d in result.diagnostics if d.severity >= Severity.ERROR] == []
    for family in (4, 6):
        ruleset = result.rulesets[family]
        assert check(ruleset) == []
        rendered = render(ruleset, source_name="generated.fw")
        read = read_rules(rendered, "generated.rules", family=family)
        assert read.diagnostics == []
        assert read.ruleset == ruleset
