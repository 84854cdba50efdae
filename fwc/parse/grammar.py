"""Loading the .lark grammars: from the installed package (fwc.grammar, in the wheel) or
the checkout's top-level grammar/ directory. Parsers are built once per process."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2] / "grammar"


def grammar_text(name: str) -> str:
    try:
        return (resources.files("fwc.grammar") / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return (_CHECKOUT / name).read_text(encoding="utf-8")


@functools.cache
def lark_parser(name: str, start: str = "start", **options):
    """An LALR parser for grammar/``name`` with positions, built once per process
    (lark is imported here: reading well-formed rules files never needs it)."""
    from lark import Lark

    options.setdefault("parser", "lalr")
    options.setdefault("propagate_positions", True)
    options.setdefault("maybe_placeholders", False)
    return Lark(grammar_text(name), start=start, **options)
