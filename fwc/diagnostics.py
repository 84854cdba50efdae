"""Diagnostics: what every frontend, check and backend reports.

A diagnostic names a check code (``FW001`` ...), the span it points at, a message in
words, optional related spans (the rules that cover a shadowed rule, say), an optional
``help`` line and an optional :class:`Fix` (text edits, marked safe or unsafe).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .source import Span


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None


@dataclass(frozen=True, slots=True)
class Related:
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``path`` lines/columns ``span`` with ``text``."""

    span: Span
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    description: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    span: Span
    message: str
    related: tuple[Related, ...] = ()
    help: str | None = None
    fix: Fix | None = None
    # A concrete packet showing the problem (analysis checks), in fwc query syntax.
    witness: str | None = None

    @property
    def sort_key(self) -> tuple:
        s = self.span
        return (s.path, s.line, s.col, self.code, self.message)


class FwcError(Exception):
    """A usage, configuration or I/O problem: exit code 2, message on stderr."""


class InputErrors(Exception):
    """Input that cannot be processed further; carries the diagnostics (exit code 1)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"{len(diagnostics)} error(s)")
        self.diagnostics = diagnostics
