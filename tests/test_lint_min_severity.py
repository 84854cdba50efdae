"""lint_document(min_severity=...): checks that cannot report at or above it are not run,
and what the caller shows is the same as when every check runs."""

from __future__ import annotations

from fwc.diagnostics import Severity
from fwc.lint import lint_document
from enginekit import document, only_test_checks, registered

RULES = """\
*filter
:INPUT DROP [0:0]
-A INPUT -p tcp --dport 6379 -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
"""


def _recording(code: str, line: int, ran: list[str]):
    """A check's run that notes it ran and reports ``line``."""
    def run(ctx):
        ran.append(code)
        from fwc.diagnostics import Diagnostic
        from fwc.source import Span

        yield Diagnostic(code, _SEVERITY[code], Span(ctx.document.path, line, 1, line, 2), "x")
    return run


_SEVERITY = {"FW981": Severity.INFO, "FW982": Severity.WARNING}


def _lint(text: str, ran: list[str], **config):
    with registered(("FW981", _recording("FW981", 3, ran), Severity.INFO),
                    ("FW982", _recording("FW982", 4, ran), Severity.WARNING)):
        found = lint_document(document(text), only_test_checks(**config),
                              min_severity=Severity.WARNING)
    return [(d.code, d.span.line) for d in found]


def test_an_info_check_is_not_run():
    ran: list[str] = []
    assert _lint(RULES, ran) == [("FW982", 4)]
    assert ran == ["FW982"]


def test_without_min_severity_every_check_runs():
    ran: list[str] = []
    with registered(("FW981", _recording("FW981", 3, ran), Severity.INFO),
                    ("FW982", _recording("FW982", 4, ran), Severity.WARNING)):
        found = lint_document(document(RULES), only_test_checks())
    assert [(d.code, d.span.line, d.severity) for d in found] == [
        ("FW981", 3, Severity.INFO), ("FW982", 4, Severity.WARNING)]
    assert sorted(ran) == ["FW981", "FW982"]


def test_severity_overrides_decide_what_runs():
    ran: list[str] = []
    found = _lint(RULES, ran, severity={"FW981": Severity.WARNING, "FW982": Severity.INFO})
    assert found == [("FW981", 3)]
    assert ran == ["FW981"]


def test_a_check_a_directive_names_still_runs_so_the_directive_is_judged():
    # FW981 reports line 3 only: the directive on line 4 suppresses nothing (FW900, a
    # warning, shown by a compile), the one on line 3 is used.
    text = RULES.replace("22 -j ACCEPT", "22 -j ACCEPT  # fwc: ignore=FW981 -- reason")
    ran: list[str] = []
    assert _lint(text, ran) == [("FW981", 3), ("FW982", 4), ("FW900", 4)]
    assert sorted(ran) == ["FW981", "FW982"]
    used = RULES.replace("6379 -j ACCEPT", "6379 -j ACCEPT  # fwc: ignore=FW981 -- reason")
    ran.clear()
    assert _lint(used, ran) == [("FW982", 4)]
    assert sorted(ran) == ["FW981", "FW982"]


POLICY = """\
policy input drop
policy forward drop
policy output accept
allow loopback
allow established
allow icmp essential
allow tcp 22 from 10.0.0.0/8
allow tcp 8080 from 0.0.0.0/4  # fwc: ignore=FW303 -- partner range
allow tcp 6379 from 10.0.0.0/8  # fwc: ignore=FW303 -- reason
"""


def test_compile_still_judges_directives_for_info_checks(tmp_path, capsys):
    # FW303 (info) is not shown by a compile, but the directives naming it are judged:
    # the one on line 8 is used, the one on line 9 is not.
    from fwc import cli

    path = tmp_path / "host.fw"
    path.write_text(POLICY)
    code = cli.main(["compile", str(path), "--emit", "iptables"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("# ")
    assert err.splitlines()[0] == f"{path}:9:47: FW900 unused suppression: FW303 reports nothing here"
    assert err.splitlines()[-1] == "1 warning: compiled"
