"""The benchmark generator writes one policy in several peer formats; fwc's policy
must compile to exactly its iptables-save file (the rules ferm produces too)."""

from __future__ import annotations

import subprocess
import sys

from conftest import SHARED, need
from fwc.backends.iptables_restore import render
from fwc.parse.policy import load_policy

GENERATOR = SHARED / "bench" / "gen_policy.py"


def test_generated_policy_compiles_to_the_reference_rules(tmp_path):
    need(GENERATOR.is_file(), f"{GENERATOR} is not present")
    subprocess.run([sys.executable, str(GENERATOR), "2000", "-d", str(tmp_path)], check=True)
    result = load_policy(tmp_path / "policy.fw")
    assert result.diagnostics == []
    rendered = render(result.rulesets[4], source_name="policy.fw")
    assert rendered.split("\n", 1)[1] == (tmp_path / "iptables.rules").read_text()
