"""FW006 bad-policy: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class BadPolicy(Check):
    """A chain policy that iptables cannot set.

    What it does
        Reports a built-in chain whose policy is not ACCEPT or DROP (`:INPUT REJECT`), a
        user chain declared with a policy (`:MYCHAIN ACCEPT`; user chains take `-`), and
        `-P` on a chain that is not built in.

    Why is this bad?
        Only built-in chains have a policy, and only ACCEPT or DROP: anything else makes
        the restore fail on the host (the nf_tables `--test` does not always notice).
        A policy on a user chain usually means a built-in chain name was misspelt or
        belongs to another table.

    Example
        # kind: rules
        *filter
        :INPUT REJECT [0:0]
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -j REJECT
        COMMIT

    Exceptions
        None.
    """

    code = "FW006"
    name = "bad-policy"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
