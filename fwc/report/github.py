"""GitHub Actions workflow commands: annotations on the pull request's lines."""

from __future__ import annotations

from typing import IO

from . import Report, check_name

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def line(d) -> str:
    s = d.span
    title = f"{d.code} {check_name(d.code)}".strip()
    props = ",".join([
        f"file={_escape_property(s.path)}", f"line={s.line}", f"col={s.col}",
        f"endLine={s.end_line}", f"endColumn={s.end_col}", f"title={_escape_property(title)}",
    ])
    message = d.message if not d.help else f"{d.message}\nhelp: {d.help}"
    return f"::{_LEVEL[str(d.severity)]} {props}::{_escape_data(message)}"


def write(report: Report, stream: IO[str]) -> None:
    for d in report.diagnostics:
        stream.write(line(d) + "\n")
