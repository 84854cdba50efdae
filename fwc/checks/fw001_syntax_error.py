"""FW001 syntax-error: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class UnparsableLine(Check):
    """A line iptables-restore cannot parse.

    What it does
        Reports a line that is not a table header, a chain declaration, a command with
        well-formed options, a comment or `COMMIT`: an unterminated quote, a word where an
        option was expected, an option without its value, a negation in the wrong place,
        `--option=value` for the base options (iptables 1.8.9 reads the whole word as the
        value), a white-space-only line, CRLF line endings. The finding points at the
        exact word, and says what was expected in words.

    Why is this bad?
        iptables-restore stops at the first line it cannot parse and loads nothing from
        the file (it restores tables atomically), so one typo leaves the host with
        whatever rules it had before, or none at boot.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp --dport 22 -j ACCEPT # ssh
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        # ssh
        -A INPUT -p tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        None: iptables-restore refuses the file. (A chain line's malformed counters are
        reported as a warning: iptables-restore ignores them unless `--counters` is given.)
    """

    code = "FW001"
    name = "syntax-error"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
