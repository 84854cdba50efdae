"""Source files and spans.

Every model node and every diagnostic carries a :class:`Span`: the file it came from and
1-based line/column positions (``end_col`` is exclusive). Text inside a provisioning
file (a rules file embedded in a ``#cloud-config``) is parsed with a :class:`LineMap` so
its spans point at the YAML file, not at the extracted text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    path: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, path: str, line: int, col: int, length: int = 1) -> "Span":
        return cls(path, line, col, line, col + max(length, 1))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class LineMap:
    """Where text extracted from another file sits in that file.

    Line ``n`` (1-based) of the extracted text is line ``first_line + n - 1`` of the
    outer file, and every column is shifted right by ``indent`` (a YAML block scalar's
    indentation).
    """

    path: str
    first_line: int = 1
    indent: int = 0

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        off = self.first_line - 1
        return Span(self.path, line + off, col + self.indent, end_line + off, end_col + self.indent)


@dataclass(frozen=True)
class SourceFile:
    """The text of one input file, kept so reports can quote its lines."""

    path: str
    text: str

    @functools.cached_property
    def lines(self) -> tuple[str, ...]:
        # Split on first use: linting a 100k-line dump quotes a handful of lines at most.
        return tuple(self.text.splitlines())

    @classmethod
    def read(cls, path: str | Path) -> "SourceFile":
        """Read a file as UTF-8 (undecodable bytes replaced, never a crash)."""
        p = Path(path)
        data = p.read_bytes()
        return cls(str(path), data.decode("utf-8", errors="replace"))

    def line(self, number: int) -> str:
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""
