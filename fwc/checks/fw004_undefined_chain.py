"""FW004 undefined-chain: reported by the iptables-save reader (fwc/parse/rules_save.py)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class UndefinedChain(Check):
    """A rule uses a chain that is neither built in nor declared in its table.

    What it does
        Reports `-A CHAIN` for a chain that is not a built-in chain of the table and was
        not declared (`:CHAIN - [0:0]` or `-N CHAIN`), and `-j CHAIN` / `-g CHAIN` naming
        neither a target nor a chain of the table.

    Why is this bad?
        `iptables-restore --test` accepts the file on the nf_tables backend, but loading it
        fails ("Chain 'X' does not exist"), so the error appears only on the host, at boot.
        A misspelt target (`-j ACCCEPT`) is read as a jump to a missing chain.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        -A INPUT -j LOGDROP
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :LOGDROP - [0:0]
        -A INPUT -j LOGDROP
        -A LOGDROP -j DROP
        COMMIT

    Exceptions
        Files meant to be loaded with `--noflush` on top of chains another file creates
        (ufw's before.rules) reference chains they do not declare; lint them together
        with the file that declares the chains, or suppress the finding.
    """

    code = "FW004"
    name = "undefined-chain"
    severity = Severity.ERROR
    applies_to = frozenset({"rules", "cloud-config", "butane", "policy"})
    emitted_by_reader = True
