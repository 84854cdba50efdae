"""Output formats for findings. Formatters only lay out; they never decide anything.

``write_report(fmt, report, stream)`` with ``fmt`` one of :data:`FORMATS`; ``auto``
picks ``github`` under GitHub Actions, ``text`` on a terminal and ``concise`` otherwise.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Mapping

from ..diagnostics import Diagnostic
from ..source import SourceFile

FORMATS = ("auto", "text", "concise", "json", "github", "sarif")
_MODULES = {"text": "text", "concise": "concise", "json": "json_format", "github": "github",
            "sarif": "sarif"}


@dataclass
class Report:
    """Everything a formatter needs: sorted findings, the files' text, how many files."""

    diagnostics: list[Diagnostic]
    sources: Mapping[str, SourceFile] = field(default_factory=dict)
    files: int = 1


def resolve_format(fmt: str, stream: IO[str] | None = None,
                   environ: Mapping[str, str] | None = None) -> str:
    if fmt != "auto":
        return fmt
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    stream = stream or sys.stdout
    return "text" if _isatty(stream) else "concise"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def write_report(fmt: str, report: Report, stream: IO[str]) -> None:
    module = importlib.import_module(f"{__name__}.{_MODULES[resolve_format(fmt, stream)]}")
    module.write(report, stream)


def check_name(code: str) -> str:
    names = _check_names()
    if code not in names:  # registered after the first call (a plugin, a test)
        _check_names.cache_clear()
        names = _check_names()
    return names.get(code, "")


@functools.cache
def _check_names() -> dict[str, str]:
    from ..checks.base import load_checks

    return {code: cls.name for code, cls in load_checks().items()}
