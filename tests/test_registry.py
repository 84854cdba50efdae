"""Meta-tests over the check registry: codes, names, docs, case files, examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import SHARED, need
from fwc.checks.base import DOC_SECTIONS, Severity, load_checks
from fwc.ruledoc import example, summary

CHECKS = load_checks()
CASES = Path(__file__).parent / "checks"
CATALOGUE = SHARED / "CHECKS.md"
_ROW = re.compile(r"^\|\s*(FW\d{3})\s*\|\s*([a-z0-9-]+)\s*\|\s*([^|]+?)\s*\|")


def catalogue() -> dict[str, tuple[str, str]]:
    """CHECKS.md's tables: code -> (name, severity column)."""
    need(CATALOGUE.is_file(), f"{CATALOGUE} is not present")
    rows = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def _documented_only(cls) -> bool:
    return bool(getattr(cls, "documentation_only", False))


def test_codes_names_and_modules_are_well_formed():
    names = {}
    for code, cls in CHECKS.items():
        assert re.fullmatch(r"FW\d{3}", code), code
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", cls.name), (code, cls.name)
        assert cls.name not in names, f"{code} and {names[cls.name]} share the name {cls.name}"
        names[cls.name] = code
        assert isinstance(cls.severity, Severity), code
        module = cls.__module__.rsplit(".", 1)[-1]
        assert module.startswith(code.lower() + "_"), f"{code} lives in {module}.py"


def test_every_catalogue_code_is_registered():
    missing = sorted(set(catalogue()) - set(CHECKS))
    assert not missing, f"codes in CHECKS.md without a check: {', '.join(missing)}"


# Codes fwc adds beyond the catalogue, each with a reason; anything else is a mistake.
EXTENSIONS = {
    "FW015": "a compile backend (nftables) cannot express a policy rule; the catalogue "
             "has no code for refusals by an output format",
}


def test_no_code_outside_the_catalogue():
    extra = sorted(set(CHECKS) - set(catalogue()) - set(EXTENSIONS))
    assert not extra, f"checks not in CHECKS.md: {', '.join(extra)}"


def test_names_and_default_severities_match_the_catalogue():
    wrong = []
    for code, (name, severity) in catalogue().items():
        cls = CHECKS.get(code)
        if cls is None:
            continue
        if cls.name != name:
            wrong.append(f"{code}: name {cls.name!r}, catalogue says {name!r}")
        sev = severity.split()[0]
        if sev != "n/a" and str(cls.severity) != sev:
            wrong.append(f"{code}: severity {cls.severity}, catalogue says {sev}")
        if cls.enabled_by_default == ("off by default" in severity):
            wrong.append(f"{code}: enabled_by_default={cls.enabled_by_default}, catalogue says {severity!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("code", list(CHECKS))
def test_docs_have_every_section(code):
    cls = CHECKS[code]
    docs = cls.docs()
    assert summary(cls), f"{code}: the docstring's first line (summary) is empty"
    missing = [s for s in DOC_SECTIONS if not docs.get(s, "").strip()]
    assert not missing, f"{code}: docstring lacks {', '.join(missing)}"


@pytest.mark.parametrize("code", [c for c, cls in CHECKS.items() if not _documented_only(cls)])
def test_every_check_has_a_case_file_with_a_firing_and_a_clean_case(code):
    path = CASES / f"{code}.yaml"
    assert path.is_file(), f"no case file tests/checks/{code}.yaml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    assert any(c.get("expected") for c in cases), f"{path.name}: no case where {code} fires"
    assert any(c.get("expected") == [] for c in cases), f"{path.name}: no clean case"


def _codes_for(ex, tmp_path) -> list[str]:
    from fwc.config import Config
    from fwc.lint import lint_document
    from fwc.load import load_document

    path = tmp_path / ex.file_name
    path.write_text(ex.text, encoding="utf-8")
    doc = load_document(str(path), family=ex.family)
    return [d.code for d in lint_document(doc, Config(select=("ALL",)))]


@pytest.mark.parametrize("code", [c for c, cls in CHECKS.items() if not _documented_only(cls)])
def test_docstring_example_fires_and_use_instead_does_not(code, tmp_path):
    cls = CHECKS[code]
    bad, good = example(cls, "Example"), example(cls, "Use instead")
    assert bad is not None and good is not None, \
        f"{code}: Example and Use instead need an input block starting with `# kind: ...`"
    assert code in _codes_for(bad, tmp_path), f"{code}: its Example does not fire"
    assert code not in _codes_for(good, tmp_path), f"{code}: its Use instead fires"


def _case_runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("case_runner", CASES / "test_checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_case_file_for_a_missing_check_fails_loudly(tmp_path):
    runner = _case_runner()
    case = {"name": "x", "source": "*filter\nCOMMIT\n", "expected": []}
    with pytest.raises(AssertionError, match=r"FW989\.yaml: no check FW989 is registered"):
        runner.test_case(tmp_path / "FW989.yaml", case, tmp_path)


def test_malformed_case_file_is_reported(tmp_path):
    runner = _case_runner()
    bad = tmp_path / "FW900.yaml"
    bad.write_text("check: FW900\ncases:\n  - name: a\n    source: x\n    expected: [[1]]\n    extra: 1\n")
    with pytest.raises(AssertionError) as err:
        runner.load_case_file(bad)
    assert "unknown key 'extra'" in str(err.value)
    assert "expected must be a list of [line, col] pairs" in str(err.value)
