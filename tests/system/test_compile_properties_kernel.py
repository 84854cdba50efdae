"""Generated policies against the kernel: both families' compiled rules load with the real
iptables-restore / ip6tables-restore in a throwaway namespace, and iptables-save prints
them back line for line."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fwc.backends.iptables_restore import render
from fwc.diagnostics import Severity
from fwc.parse.policy import load_policy
from policy_strategies import policies
from test_backend_kernel import load_and_dump, without_header

pytestmark = pytest.mark.system


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=policies())
def test_generated_policy_loads_and_comes_back_unchanged(netns, text):
    result = load_policy("generated.fw", text=text)
    assert [d for d in result.diagnostics if d.severity >= Severity.ERROR] == []
    for family in (4, 6):
        rendered = render(result.rulesets[family], source_name="generated.fw")
        assert load_and_dump(netns, family, rendered) == without_header(rendered)
