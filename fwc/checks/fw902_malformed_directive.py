"""FW902 malformed-directive: produced by the suppression stage (fwc/suppress.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class MalformedDirective(Check):
    """A `fwc:` comment that does not parse as a directive.

    What it does
        Reports a comment that starts with `fwc:` and looks like a directive
        (`ignore...` or `word=`) but is not `fwc: ignore=CODE[,CODE...]` or
        `fwc: ignore-file=CODE[,CODE...]`, optionally followed by ` -- reason`.
        Also reported: `ignore-file=` after the first statement of the file, not
        on its own line, or inside a rule's `-m comment`.

    Why is this bad?
        A directive fwc cannot read suppresses nothing: the author believes a
        finding is silenced and documented while it is not.

    Example
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        # fwc: ignore FW302 -- missing the = sign
        -A INPUT -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        # fwc: ignore=FW302 -- lab host on an isolated network
        -A INPUT -j ACCEPT
        COMMIT
    """

    code = "FW902"
    name = "malformed-directive"
    severity = Severity.ERROR
