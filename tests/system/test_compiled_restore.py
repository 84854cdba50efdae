"""Every shipped policy (rulesets/) and every compile test case compiles, for each family,
to text the real ``iptables-restore --test`` / ``ip6tables-restore --test`` accept (run
inside a throwaway network namespace); every user-data golden passes cloud-init's schema."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, need_tool
from fwc.backends.iptables_restore import render
from fwc.diagnostics import Severity
from fwc.parse.policy import load_policy

pytestmark = pytest.mark.system

SHIPPED = sorted((ROOT / "rulesets").glob("*.fw"))
CASES = sorted((ROOT / "tests" / "compile").glob("*/policy.fw"))
USER_DATA = sorted((ROOT / "tests" / "compile").glob("*/user-data"))
RESTORE = {4: "iptables-restore", 6: "ip6tables-restore"}


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def compiled(path: Path) -> dict[int, str] | None:
    """Both families' rules, or None when the policy has errors of its own."""
    result = load_policy(str(path))
    if any(d.severity >= Severity.ERROR for d in result.diagnostics):
        return None
    return {family: render(result.rulesets[family], source_name=path.name)
            for family in (4, 6)}


def assert_restore_accepts(netns, texts: dict[int, str]) -> None:
    for family, text in texts.items():
        need_tool(RESTORE[family])
        checked = netns([RESTORE[family], "--test"], input=text)
        assert checked.returncode == 0, f"{RESTORE[family]} --test refused:\n{checked.stderr}\n{text}"


def test_rulesets_are_shipped():
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize("policy", SHIPPED, ids=_id)
def test_shipped_policy_compiles_to_rules_iptables_restore_accepts(netns, policy):
    texts = compiled(policy)
    assert texts is not None, f"{policy} has errors"
    assert_restore_accepts(netns, texts)


@pytest.mark.parametrize("policy", CASES, ids=_id)
def test_compile_case_compiles_to_rules_iptables_restore_accepts(netns, policy):
    texts = compiled(policy)
    if texts is None:
        assert policy.parent.name == "errors", f"{policy} has errors"
        return
    assert_restore_accepts(netns, texts)


@pytest.mark.parametrize("user_data", USER_DATA, ids=_id)
def test_user_data_golden_passes_cloud_init_schema(user_data):
    need_tool("cloud-init")
    checked = subprocess.run([shutil.which("cloud-init"), "schema", "--config-file",
                              str(user_data)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
