"""Suppression directives and the FW9xx findings about them.

Directives (CHECKS.md, "Suppression syntax")::

    allow tcp 6379 from any  # fwc: ignore=FW301 -- cache is behind NAT   (same line)
    # fwc: ignore=FW301,FW304 -- reason         (own line: the next statement or rule)
    # fwc: ignore-file=FW109 -- reason          (before the first statement: whole file)
    -A INPUT ... -m comment --comment "fwc: ignore=FW301"     (inside a rule)

They are read from the document's comments and its rules' ``-m comment`` texts and
applied after every check ran, so checks never know about them. A directive code that
suppressed nothing is FW900, a code that does not exist FW901, a ``fwc:`` comment that
does not parse FW902. Lookup is a dict keyed by (path, line): linear in the findings.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .diagnostics import Diagnostic, Severity
from .document import Document
from .source import SourceFile, Span

KINDS = ("ignore", "ignore-file")
_PREFIX = re.compile(r"^\s*fwc\s*:", re.IGNORECASE)
_HEAD = re.compile(r"^\s*(?P<kind>[A-Za-z][\w-]*)\s*(?P<eq>=)?\s*(?P<codes>.*?)\s*$")
_CODE_SHAPED = re.compile(r"^[A-Za-z]+\d+$")


@dataclass
class Directive:
    """One parsed directive; ``codes`` maps each code to the span of its text."""

    kind: str  # "ignore" or "ignore-file"
    codes: dict[str, Span]
    span: Span
    reason: str | None = None
    used: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Parsed:
    directive: Directive | None
    problems: tuple[Diagnostic, ...] = ()


def is_directive(text: str) -> bool:
    """A comment meant as a directive: ``fwc:`` then ``ignore...`` or ``word=``.

    Other comments that merely start with ``fwc:`` (``# fwc: compiled from x.fw``) are
    prose, not malformed directives.
    """
    m = _PREFIX.match(text)
    if not m:
        return False
    body = text[m.end():].split(" -- ", 1)[0].strip()
    if re.match(r"output\b", body, re.IGNORECASE):
        return False  # `fwc: output PATH [emit=...]`: a policy header directive, not a suppression
    return body.lower().startswith("ignore") or "=" in body


def parse_directive(text: str, span: Span, known: Iterable[str]) -> Parsed:
    """Parse the text after ``#`` (or a rule comment). ``span`` covers ``text``'s first
    character onward on one line when columns can be computed exactly."""
    m = _PREFIX.match(text)
    body_start = m.end()
    body, _, reason = text[body_start:].partition(" -- ")
    head = _HEAD.match(body)
    if not head or not head.group("eq"):
        return _malformed(span, "expected `fwc: ignore=CODE[,CODE...]` or "
                                "`fwc: ignore-file=CODE[,CODE...]`")
    kind = head.group("kind").lower()
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1, cutoff=0.5)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        return _malformed(span, f"unknown directive `{kind}`{hint}; use ignore= or ignore-file=")
    codes_text = head.group("codes")
    if not codes_text:
        return _malformed(span, f"`{kind}=` names no code")
    codes_offset = body_start + head.start("codes")
    return _parse_codes(kind, codes_text, codes_offset, span, reason.strip() or None, set(known))


def _parse_codes(kind: str, codes_text: str, offset: int, span: Span, reason: str | None,
                 known: set[str]) -> Parsed:
    codes: dict[str, Span] = {}
    problems: list[Diagnostic] = []
    pos = 0
    for token in codes_text.split(","):
        stripped = token.strip()
        col_in_text = offset + pos + (len(token) - len(token.lstrip()))
        pos += len(token) + 1
        token_span = _sub_span(span, col_in_text, max(len(stripped), 1))
        if not _CODE_SHAPED.match(stripped):
            what = "an empty code" if not stripped else f"`{stripped}` is not a check code"
            problems.append(_diag("FW902", token_span,
                                  f"malformed directive: {what}{_hint(stripped)}"))
            continue
        code = stripped.upper()
        if code not in known:
            close = difflib.get_close_matches(code, sorted(known), n=1, cutoff=0.6)
            problems.append(_diag(
                "FW901", token_span, f"unknown code {code} in suppression directive",
                help=f"did you mean {close[0]}?" if close else "see `fwc rules` for every code"))
            continue
        codes.setdefault(code, token_span)
    directive = Directive(kind, codes, span, reason) if codes else None
    return Parsed(directive, tuple(problems))


def _hint(token: str) -> str:
    words = token.split()
    if len(words) < 2:
        return ""
    if all(_CODE_SHAPED.match(w) for w in words):
        return " (codes are separated by commas)"
    return " (write the reason after ` -- `)"


def _sub_span(span: Span, offset: int, length: int) -> Span:
    """The span of ``length`` characters at ``offset`` in a one-line text at ``span``."""
    if span.line != span.end_line:
        return span
    col = span.col + offset
    return Span(span.path, span.line, col, span.line, col + length)


def _malformed(span: Span, message: str) -> Parsed:
    return Parsed(None, (_diag("FW902", span, f"malformed directive: {message}"),))


def _diag(code: str, span: Span, message: str, *, help: str | None = None) -> Diagnostic:
    severity = Severity.WARNING if code == "FW900" else Severity.ERROR
    return Diagnostic(code, severity, span, message, help=help)


# ------------------------------------------------------------------------ scoping


class _Statements:
    """Where statements are in each file: a line that is not blank and not a comment."""

    def __init__(self, doc: Document):
        self._doc = doc
        self._cache: dict[str, SourceFile | None] = {}
        self._first: dict[str, int] = {}

    def _source(self, path: str) -> SourceFile | None:
        if path not in self._cache:
            self._cache[path] = self._doc.source_for(path)
        return self._cache[path]

    def next_after(self, path: str, line: int) -> int | None:
        src = self._source(path)
        if src is None:
            return line + 1
        for number in range(line + 1, len(src.lines) + 1):
            if _is_statement(src.lines[number - 1]):
                return number
        return None

    def first(self, path: str) -> int:
        if path not in self._first:
            self._first[path] = self.next_after(path, 0) or 10**9
        return self._first[path]


def _is_statement(text: str) -> bool:
    stripped = text.strip()
    return bool(stripped) and not stripped.startswith("#")


@dataclass
class Directives:
    by_line: dict[tuple[str, int], list[Directive]] = field(default_factory=dict)
    by_file: dict[str, list[Directive]] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)

    def all(self) -> list[Directive]:
        seen: list[Directive] = []
        for group in (*self.by_line.values(), *self.by_file.values()):
            seen.extend(group)
        return seen


def collect(doc: Document, known: Iterable[str]) -> Directives:
    """Every directive of ``doc``, keyed by the line or file it applies to."""
    known = frozenset(known)
    out = Directives()
    statements = _Statements(doc)
    seen: set[tuple[str, int, str]] = set()
    for comment in doc.comments:
        if is_directive(comment.text):
            _add_comment(out, comment, statements, known, seen)
    for span, text in _rule_comments(doc):
        _add_rule_comment(out, span, text, doc, known, seen)
    return out


def _add_comment(out: Directives, comment, statements: _Statements, known, seen) -> None:
    span = comment.span
    text_span = Span(span.path, span.line, span.col + 1, span.end_line, span.end_col)
    parsed = parse_directive(comment.text, text_span, known)
    # A directive that does not parse at all is shown from its `#`.
    out.problems.extend(_replace_span(p, text_span, span) for p in parsed.problems)
    d = parsed.directive
    if d is None:
        return
    if d.kind == "ignore-file":
        if not comment.own_line or span.line > statements.first(span.path):
            out.problems.append(_diag(
                "FW902", span, "malformed directive: `ignore-file=` must be on its own line "
                               "before the first statement of the file"))
            return
        out.by_file.setdefault(span.path, []).append(d)
        return
    target = span.line if not comment.own_line else statements.next_after(span.path, span.line)
    if target is None:
        target = span.line  # nothing follows: it will be reported unused
    key = (span.path, target, _body(comment.text))
    if key in seen:
        return
    seen.add(key)
    out.by_line.setdefault((span.path, target), []).append(d)


def _add_rule_comment(out: Directives, span: Span, text: str, doc: Document, known, seen) -> None:
    # A policy line's directive may also be copied into the compiled rule's comment:
    # the same directive for the same line is one directive, not two.
    key = (span.path, span.line, _body(text))
    if key in seen:
        return
    seen.add(key)
    parsed = parse_directive(text, _locate(doc, span, text), known)
    out.problems.extend(parsed.problems)
    d = parsed.directive
    if d is None:
        return
    if d.kind == "ignore-file":
        out.problems.append(_diag("FW902", d.span, "malformed directive: `ignore-file=` is not "
                                                   "allowed in a rule comment (use a # comment)"))
        return
    out.by_line.setdefault((span.path, span.line), []).append(d)


def _replace_span(d: Diagnostic, old: Span, new: Span) -> Diagnostic:
    if d.span != old:
        return d
    return Diagnostic(d.code, d.severity, new, d.message, help=d.help)


def _body(text: str) -> str:
    return " ".join(text.split(" -- ", 1)[0].split()).lower()


def _rule_comments(doc: Document):
    for ruleset in doc.rulesets:
        for table in ruleset.tables:
            for chain in table.chains:
                for rule in chain.rules:
                    c = rule.comment
                    # A directive starts with `fwc` (any case) after optional white space:
                    # test the first character before the regular expression.
                    if c and (c[0] in "fF" or c[0].isspace()) and rule.span is not None \
                            and is_directive(c):
                        yield rule.span, c


def _locate(doc: Document, span: Span, text: str) -> Span:
    """The span of a rule comment's text in its source line (else the rule's span)."""
    src = doc.source_for(span.path)
    line = src.line(span.line) if src else ""
    idx = line.find(text)
    if idx < 0:
        return span
    return Span(span.path, span.line, idx + 1, span.line, idx + 1 + len(text))


# ---------------------------------------------------------------------- the stage


def apply(doc: Document, diagnostics: Iterable[Diagnostic], known: Iterable[str],
          enabled: Callable[[str, str], bool] = lambda code, path: True
          ) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """Drop suppressed findings. Returns (kept findings, FW900-FW902 findings).

    ``enabled(code, path)`` says whether a code ran for a file: a directive naming a
    check the configuration turned off is not reported as unused (it could not be used).
    """
    directives = collect(doc, known)
    kept: list[Diagnostic] = []
    if not directives.by_line and not directives.by_file:
        return list(diagnostics), directives.problems
    for d in diagnostics:
        if not _suppressed(d, directives):
            kept.append(d)
    return kept, directives.problems + _unused(directives, enabled)


def _suppressed(d: Diagnostic, directives: Directives) -> bool:
    hit = False
    span = d.span
    for directive in directives.by_line.get((span.path, span.line), ()):
        if d.code in directive.codes:
            directive.used.add(d.code)
            hit = True
    for directive in directives.by_file.get(span.path, ()):
        if d.code in directive.codes:
            directive.used.add(d.code)
            hit = True
    return hit


def _unused(directives: Directives, enabled: Callable[[str, str], bool]) -> list[Diagnostic]:
    out = []
    for directive in directives.all():
        for code, span in directive.codes.items():
            if code in directive.used or not enabled(code, span.path):
                continue
            scope = "in this file" if directive.kind == "ignore-file" else "here"
            out.append(_diag("FW900", span, f"unused suppression: {code} reports nothing {scope}",
                             help=f"remove {code} from the directive"))
    return out
