"""FW900 unused-suppression: produced by the suppression stage (fwc/suppress.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class UnusedSuppression(Check):
    """An ignore directive names a code that reported nothing where it applies.

    What it does
        Reports each code of a `fwc: ignore=` or `fwc: ignore-file=` directive that
        suppressed no finding: on its line, on the next statement, or in the file.

    Why is this bad?
        A stale suppression hides the next real finding of that code at that place,
        and it tells the reader a problem exists where there is none. Checks the
        configuration turns off are not reported: their directives could not be used.

    Example
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        # fwc: ignore=FW302 -- nothing here accepts everything
        -A INPUT -p tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT ACCEPT [0:0]
        -A INPUT -p tcp --dport 22 -j ACCEPT
        COMMIT
    """

    code = "FW900"
    name = "unused-suppression"
    severity = Severity.WARNING
