"""Suppression directives (CHECKS.md "Suppression syntax") and FW900-FW902."""

from __future__ import annotations

import pytest

from fwc.lint import lint_document
from enginekit import document, only_test_checks, registered

RULES = """\
*filter
:INPUT DROP [0:0]
-A INPUT -p tcp --dport 6379 -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
"""


def _found(doc):
    return [(d.code, d.span.line, d.span.col) for d in lint_document(doc, only_test_checks())]


def _lines_with(word):
    """A test check's run: a finding at column 1 of every rule line containing ``word``."""
    def run(ctx):
        from fwc.diagnostics import Diagnostic, Severity
        from fwc.source import Span

        for n, line in enumerate(ctx.document.source.lines, 1):
            if line.startswith("-A") and word in line or line.startswith("allow") and word in line:
                code = "FW981" if word == "ACCEPT" else "FW982"
                yield Diagnostic(code, Severity.WARNING, Span(ctx.document.path, n, 1, n, 2), "x")
    return run


@pytest.fixture
def fires_on_3_and_4():
    """FW981 on every accepting rule, FW982 on the rule that opens 6379."""
    with registered(("FW981", _lines_with("ACCEPT")), ("FW982", _lines_with("6379"))):
        yield


def test_without_directives_everything_is_reported(fires_on_3_and_4):
    assert _found(document(RULES)) == [("FW981", 3, 1), ("FW982", 3, 1), ("FW981", 4, 1)]


def test_same_line_directive_suppresses_only_its_line(fires_on_3_and_4):
    text = RULES.replace("6379 -j ACCEPT", "6379 -j ACCEPT  # fwc: ignore=FW981 -- behind NAT")
    assert _found(document(text)) == [("FW982", 3, 1), ("FW981", 4, 1)]


def test_own_line_directive_applies_to_next_statement(fires_on_3_and_4):
    lines = RULES.splitlines()
    lines.insert(2, "# fwc: ignore=FW981,FW982 -- reason")
    lines.insert(3, "")
    lines.insert(4, "# an ordinary comment between them")
    # The rule that was on line 3 is now on line 6, the next on 7.
    assert _found(document("\n".join(lines) + "\n")) == [("FW981", 7, 1)]


def test_ignore_file_before_first_statement_covers_the_file(fires_on_3_and_4):
    text = "# fwc: ignore-file=FW981 -- legacy host\n" + RULES
    assert _found(document(text)) == [("FW982", 4, 1)]


def test_ignore_file_after_first_statement_is_malformed(fires_on_3_and_4):
    lines = RULES.splitlines()
    lines.insert(1, "# fwc: ignore-file=FW981")
    found = _found(document("\n".join(lines) + "\n"))
    assert ("FW902", 2, 1) in found
    assert ("FW981", 4, 1) in found and ("FW981", 5, 1) in found


def test_rule_comment_directive(fires_on_3_and_4):
    text = RULES.replace("6379 -j ACCEPT",
                         '6379 -m comment --comment "fwc: ignore=FW982 -- cache" -j ACCEPT')
    doc = document(text, rule_comments={3: "fwc: ignore=FW982 -- cache"})
    assert _found(doc) == [("FW981", 3, 1), ("FW981", 4, 1)]


def test_unused_directive_is_fw900_at_the_code(fires_on_3_and_4):
    text = RULES.replace("dport 22 -j ACCEPT", "dport 22 -j ACCEPT # fwc: ignore=FW981,FW982")
    line4 = text.splitlines()[3]
    col = line4.index("FW982") + 1
    found = lint_document(document(text), only_test_checks())
    assert [(d.code, d.span.line, d.span.col, d.span.end_col) for d in found] == [
        ("FW981", 3, 1, 2), ("FW982", 3, 1, 2), ("FW900", 4, col, col + 5)]
    assert "FW982" in found[-1].message


def test_unknown_code_is_fw901_with_did_you_mean(fires_on_3_and_4):
    text = RULES.replace("6379 -j ACCEPT", "6379 -j ACCEPT # fwc: ignore=FW981,FW9822")
    found = lint_document(document(text), only_test_checks())
    fw901 = [d for d in found if d.code == "FW901"]
    assert [(d.span.line, d.span.col) for d in fw901] == [(3, text.splitlines()[2].index("FW9822") + 1)]
    assert fw901[0].help == "did you mean FW982?"
    # The known code in the same directive still works.
    assert ("FW981", 3, 1) not in [(d.code, d.span.line, d.span.col) for d in found]


@pytest.mark.parametrize("comment, fragment", [
    ("fwc: ignore FW981", "expected `fwc: ignore=CODE"),
    ("fwc: ignroe=FW981", "did you mean `ignore`"),
    ("fwc: ignore=", "names no code"),
    ("fwc: ignore=FW981 FW982", "codes are separated by commas"),
    ("fwc: ignore=all", "`all` is not a check code"),
    ("fwc: ignore=FW981 behind NAT", "(write the reason after ` -- `)"),
])
def test_malformed_directives_are_fw902(fires_on_3_and_4, comment, fragment):
    text = RULES.replace("6379 -j ACCEPT", f"6379 -j ACCEPT # {comment}")
    found = [d for d in lint_document(document(text), only_test_checks()) if d.code == "FW902"]
    assert len(found) == 1 and found[0].span.line == 3
    assert fragment in found[0].message


def test_prose_after_fwc_colon_is_not_a_directive(fires_on_3_and_4):
    text = "# fwc: compiled from policy.fw, do not edit\n" + RULES
    assert _found(document(text)) == [("FW981", 4, 1), ("FW982", 4, 1), ("FW981", 5, 1)]


def test_directive_for_a_check_turned_off_is_not_unused(fires_on_3_and_4):
    text = RULES.replace("dport 22 -j ACCEPT", "dport 22 -j ACCEPT # fwc: ignore=FW982")
    found = lint_document(document(text), only_test_checks(ignore=("FW982",)))
    assert [(d.code, d.span.line) for d in found] == [("FW981", 3), ("FW981", 4)]


def test_policy_directive_copied_into_rule_comment_counts_once(fires_on_3_and_4):
    text = ("policy input drop\n\nallow tcp 6379 from any ACCEPT  # fwc: ignore=FW981\n"
            "allow tcp 22 ACCEPT\n")
    # The compiler copied the directive into the compiled rule's comment (same line).
    doc = document(text, path="p.fw", kind="policy", rule_comments={3: "fwc: ignore=FW981"})
    found = [(d.code, d.span.line) for d in lint_document(doc, only_test_checks())]
    assert found == [("FW982", 3), ("FW981", 4)]


def test_reason_is_kept():
    from fwc.source import Span
    from fwc.suppress import parse_directive

    parsed = parse_directive(" fwc: ignore=FW900 -- cache is behind NAT",
                             Span("x", 1, 2, 1, 40), {"FW900"})
    assert parsed.directive.reason == "cache is behind NAT"
    assert list(parsed.directive.codes) == ["FW900"]
    assert parsed.directive.codes["FW900"].col == 2 + len(" fwc: ignore=")
