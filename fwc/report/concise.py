"""``path:line:col: CODE [severity] message``, one finding per line (for editors)."""

from __future__ import annotations

from typing import IO

from . import Report


def line(d) -> str:
    s = d.span
    message = " ".join(d.message.split())  # one finding, one line
    return f"{s.path}:{s.line}:{s.col}: {d.code} [{d.severity}] {message}"


def write(report: Report, stream: IO[str]) -> None:
    for d in report.diagnostics:
        stream.write(line(d) + "\n")
