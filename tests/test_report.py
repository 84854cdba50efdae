"""Output formats: exact layouts, the JSON contract, SARIF against the official schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from fwc.diagnostics import Diagnostic, Edit, Fix, Related, Severity
from fwc.report import Report, resolve_format, write_report
from fwc.source import SourceFile, Span

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
TEXT = ("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
        "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")


def _report() -> Report:
    path = "etc/rules.v4"
    first = Diagnostic("FW902", Severity.ERROR, Span(path, 4, 1, 4, 37),
                       "malformed directive: a, b: 100% \"odd\"",
                       related=(Related(Span(path, 3, 11, 3, 27), "covered by this rule"),),
                       help="write `fwc: ignore=CODE`",
                       fix=Fix("drop it", (Edit(Span(path, 4, 1, 4, 37), ""),), safe=False))
    second = Diagnostic("FW900", Severity.WARNING, Span(path, 2, 1, 2, 7), "unused suppression")
    third = Diagnostic("FW901", Severity.INFO, Span("b.fw", 1, 3, 1, 4), "info line")
    return Report([third, second, first], {path: SourceFile(path, TEXT)}, files=2)


def _render(fmt: str) -> str:
    out = io.StringIO()
    write_report(fmt, _report(), out)
    return out.getvalue()


def test_concise_layout():
    assert _render("concise").splitlines() == [
        "b.fw:1:3: FW901 [info] info line",
        "etc/rules.v4:2:1: FW900 [warning] unused suppression",
        'etc/rules.v4:4:1: FW902 [error] malformed directive: a, b: 100% "odd"',
    ]


def test_json_contract():
    data = json.loads(_render("json"))
    assert data["version"] == 1
    d = data["diagnostics"][2]
    assert d == {
        "code": "FW902", "name": "malformed-directive", "severity": "error",
        "path": "etc/rules.v4", "line": 4, "column": 1, "end_line": 4, "end_column": 37,
        "message": 'malformed directive: a, b: 100% "odd"',
        "related": [{"path": "etc/rules.v4", "line": 3, "column": 11, "end_line": 3,
                     "end_column": 27, "message": "covered by this rule"}],
        "help": "write `fwc: ignore=CODE`", "witness": None,
        "fix": {"description": "drop it", "safe": False,
                "edits": [{"path": "etc/rules.v4", "line": 4, "column": 1, "end_line": 4,
                           "end_column": 37, "text": ""}]},
    }
    assert data["diagnostics"][0]["severity"] == "info"


def test_github_workflow_commands():
    assert _render("github").splitlines() == [
        "::notice file=b.fw,line=1,col=3,endLine=1,endColumn=4,title=FW901 unknown-code::info line",
        "::warning file=etc/rules.v4,line=2,col=1,endLine=2,endColumn=7,"
        "title=FW900 unused-suppression::unused suppression",
        "::error file=etc/rules.v4,line=4,col=1,endLine=4,endColumn=37,"
        "title=FW902 malformed-directive::malformed directive: a, b: 100%25 \"odd\""
        "%0Ahelp: write `fwc: ignore=CODE`",
    ]


def test_text_layout_with_caret_help_and_related(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    lines = _render("text").splitlines()
    start = lines.index('etc/rules.v4:4:1: FW902 [error] malformed directive: a, b: 100% "odd"')
    assert lines[start:start + 9] == [
        'etc/rules.v4:4:1: FW902 [error] malformed directive: a, b: 100% "odd"',
        "  4 | -A INPUT -p tcp --dport 22 -j ACCEPT",
        "    | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "  note: etc/rules.v4:3:11: covered by this rule",
        "  3 | -A INPUT -p tcp --dport 22 -j ACCEPT",
        "    |           ^^^^^^^^^^^^^^^^",
        "  help: write `fwc: ignore=CODE`",
        "  see: fwc rule FW902 (malformed-directive)",
        "",
    ]
    assert lines[-1] == "Found 3 problems (1 error, 1 warning, 1 info) in 2 files."
    assert "\x1b[" not in "\n".join(lines)  # not a terminal: no escape codes


def test_text_colour_on_a_terminal_and_no_color(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[31m" in _render("text") or "\x1b[1;31m" in _render("text")
    monkeypatch.setenv("NO_COLOR", "1")
    coloured = _render("text")
    assert not any(f"\x1b[{c}" in coloured or f";{c}m" in coloured
                   for c in ("31m", "33m", "36m", "32m", "34m"))


def test_empty_text_report_says_so():
    out = io.StringIO()
    write_report("text", Report([], {}, files=3), out)
    assert out.getvalue() == "No problems found in 3 files.\n"


def test_auto_format():
    tty = type("T", (io.StringIO,), {"isatty": lambda self: True})()
    assert resolve_format("auto", io.StringIO(), {}) == "concise"
    assert resolve_format("auto", tty, {}) == "text"
    assert resolve_format("auto", tty, {"GITHUB_ACTIONS": "true"}) == "github"
    assert resolve_format("json", tty, {"GITHUB_ACTIONS": "true"}) == "json"


def test_sarif_validates_against_the_official_schema_and_carries_rule_metadata():
    from fwc.checks.base import load_checks

    log = json.loads(_render("sarif"))
    jsonschema.validate(log, json.loads(SCHEMA.read_text()),
                        cls=jsonschema.Draft4Validator)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(load_checks())
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["FW902"]["shortDescription"]["text"] == \
        "A `fwc:` comment that does not parse as a directive."
    assert "## Why is this bad?" in by_id["FW902"]["help"]["text"]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("FW901", "note"), ("FW900", "warning"), ("FW902", "error")]
    assert rules[results[2]["ruleIndex"]]["id"] == "FW902"
    assert results[2]["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "etc/rules.v4"},
        "region": {"startLine": 4, "startColumn": 1, "endLine": 4, "endColumn": 37}}
    assert results[2]["relatedLocations"][0]["message"]["text"] == "covered by this rule"


def test_sarif_schema_rejects_a_broken_log():
    """The schema really constrains: a result without a message is refused."""
    log = json.loads(_render("sarif"))
    del log["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(log, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
