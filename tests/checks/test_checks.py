"""The one runner for every check's case file, tests/checks/FWxxx.yaml::

    check: FW102
    cases:
      - name: drop-policy-without-loopback
        kind: rules            # rules | policy | cloud-config | butane (default rules)
        family: 4              # optional, rules only
        config: {}             # optional, same keys as [tool.fwc]
        source: |
          *filter
          :INPUT DROP [0:0]
          COMMIT
        expected: [[2, 1]]     # (line, col) of every finding of this code, in order

Each case's source is written to a file named for its kind (rules.v4, rules.v6,
policy.fw, user-data, config.bu), read with load_document and linted with every enabled
check plus the case's own (so checks that are off by default are tested too). A case
file whose check is not registered fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent
FILE_NAMES = {"rules": "rules.v4", "policy": "policy.fw", "cloud-config": "user-data",
              "butane": "config.bu"}
CASE_KEYS = {"name", "kind", "family", "config", "source", "expected"}


def case_files() -> list[Path]:
    return sorted(HERE.glob("FW*.yaml"))


def load_case_file(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    if not isinstance(data, dict) or set(data) - {"check", "cases"}:
        problems.append("top level must be a mapping with `check` and `cases`")
    elif data.get("check") != path.stem:
        problems.append(f"`check: {data.get('check')}` does not match the file name {path.stem}")
    elif not isinstance(data.get("cases"), list) or not data["cases"]:
        problems.append("`cases` must be a non-empty list")
    else:
        for i, case in enumerate(data["cases"]):
            problems += _case_problems(i, case)
    if problems:
        raise AssertionError(f"{path.name}: " + "; ".join(problems))
    return data


def _case_problems(index: int, case) -> list[str]:
    if not isinstance(case, dict):
        return [f"case {index} is not a mapping"]
    where = f"case {case.get('name', index)!r}"
    out = [f"{where}: unknown key {k!r}" for k in set(case) - CASE_KEYS]
    out += [f"{where}: missing {k!r}" for k in ("name", "source", "expected") if k not in case]
    expected = case.get("expected", [])
    if not isinstance(expected, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(n, int) for n in p)
            for p in expected):
        out.append(f"{where}: expected must be a list of [line, col] pairs")
    if case.get("kind", "rules") not in FILE_NAMES:
        out.append(f"{where}: unknown kind {case.get('kind')!r}")
    return out


def _params():
    params = []
    for path in case_files():
        try:
            cases = load_case_file(path)["cases"]
        except Exception:  # a broken case file is one failing test, not a crash
            params.append(pytest.param(path, None, id=f"{path.stem}-unreadable"))
            continue
        for case in cases:
            params.append(pytest.param(path, case, id=f"{path.stem}-{case['name']}"))
    return params


def file_name(case: dict) -> str:
    kind = case.get("kind", "rules")
    if kind == "rules" and case.get("family") == 6:
        return "rules.v6"
    return FILE_NAMES[kind]


def findings_for(code: str, case: dict, tmp_path: Path) -> list[list[int]]:
    from fwc.config import config_from_mapping
    from fwc.lint import lint_document
    from fwc.load import load_document

    path = tmp_path / file_name(case)
    path.write_text(case["source"], encoding="utf-8")
    config = config_from_mapping(case.get("config") or {}).with_overrides(extend_select=[code])
    doc = load_document(str(path), family=case.get("family"))
    return [[d.span.line, d.span.col] for d in lint_document(doc, config) if d.code == code]


@pytest.mark.parametrize("path, case", _params())
def test_case(path: Path, case: dict | None, tmp_path: Path):
    from fwc.checks.base import load_checks

    if case is None:
        load_case_file(path)  # raises with the file's problems
    code = path.stem
    assert code in load_checks(), (
        f"{path.name}: no check {code} is registered "
        f"(is fwc/checks/{code.lower()}_<name>.py missing or failing to import?)")
    assert findings_for(code, case, tmp_path) == case["expected"]
