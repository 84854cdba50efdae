"""The lint pipeline on hand-made documents: check selection, crash isolation, order."""

from __future__ import annotations

from fwc.config import Config
from fwc.diagnostics import Severity
from fwc.lint import exit_code, lint_document
from enginekit import document, finding, only_test_checks, registered

TEXT = "*filter\n:INPUT DROP [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n"


def _codes(diags):
    return [(d.code, d.span.line, d.span.col) for d in diags]


def _boom(ctx):
    yield finding("FW985", 3, path=ctx.document.path)  # partial output is dropped
    raise ZeroDivisionError("division by zero")


def test_a_crashing_check_is_an_internal_error_not_a_traceback():
    with registered(("FW985", _boom), ("FW986", [(2, 1)])):
        found = lint_document(document(TEXT), only_test_checks())
    assert _codes(found) == [("FW985", 1, 1), ("FW986", 2, 1)]
    crash = found[0]
    assert crash.severity is Severity.ERROR
    assert crash.message == ("internal error: check FW985 (test-fw985) failed on this file "
                             "with ZeroDivisionError: division by zero")
    assert "this is a bug in fwc (test_lint_engine.py:" in crash.help
    assert "--ignore FW985" in crash.help


def test_crash_is_reported_through_the_cli_with_exit_1(tmp_path, capsys, monkeypatch):
    from fwc import cli, load

    path = tmp_path / "rules.v4"
    path.write_text(TEXT)
    monkeypatch.setattr(load, "_load_rules", lambda source, family: document(
        source.text, path=source.path))
    with registered(("FW985", _boom)):
        code = cli.main(["lint", str(path), "--format", "concise", "--select", "FW98"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.startswith(f"{path}:1:1: FW985 [error] internal error: check FW985")
    assert "Traceback" not in out + err


def test_reader_findings_are_included_and_sorted():
    doc = document(TEXT, diagnostics=[finding("FW986", 3, 5), finding("FW986", 1, 2)])
    with registered(("FW986", [(2, 1)])):
        assert _codes(lint_document(doc, only_test_checks())) == [("FW986", 1, 2), ("FW986", 2, 1), ("FW986", 3, 5)]


def test_duplicates_removed():
    doc = document(TEXT, diagnostics=[finding("FW986", 2, 1, severity=Severity.WARNING,
                                              message="FW986 fired")])
    with registered(("FW986", [(2, 1)])):
        assert _codes(lint_document(doc, only_test_checks())) == [("FW986", 2, 1)]


def test_checks_run_only_on_their_document_kinds():
    with registered(("FW986", [(2, 1)])) as (cls,):
        cls.applies_to = frozenset({"policy"})
        assert lint_document(document(TEXT), only_test_checks()) == []
        assert _codes(lint_document(document(TEXT, path="p.fw", kind="policy"), only_test_checks())) == [("FW986", 2, 1)]


def test_disabled_checks_do_not_run():
    ran = []

    def spy(ctx):
        ran.append(ctx.document.path)
        return iter(())

    with registered(("FW986", spy), ("FW987", spy, Severity.INFO, False)):
        lint_document(document(TEXT), Config(ignore=("FW986",)))
    assert ran == []


def test_severity_override_and_exit_code():
    with registered(("FW986", [(2, 1)], Severity.INFO)):
        found = lint_document(document(TEXT), only_test_checks())
        assert exit_code(found, Severity.WARNING) == 0
        assert exit_code(found, Severity.INFO) == 1
        louder = lint_document(document(TEXT), only_test_checks(severity={"FW986": Severity.ERROR}))
        assert louder[0].severity is Severity.ERROR
        assert exit_code(louder, Severity.ERROR) == 1


def test_directive_for_a_crashed_check_is_not_reported_unused():
    text = TEXT.replace("-A INPUT -j ACCEPT", "# fwc: ignore=FW985,FW986\n-A INPUT -j ACCEPT")
    with registered(("FW985", _boom), ("FW986", [])):
        found = lint_document(document(text), only_test_checks())
    assert [(d.code, d.span.line, d.span.col) for d in found] == [
        ("FW985", 1, 1), ("FW900", 3, 21)]
