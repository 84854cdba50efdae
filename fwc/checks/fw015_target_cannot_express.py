"""FW015: the chosen output format cannot state a rule of the policy (compile only)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class TargetCannotExpress(Check):
    """A policy rule the chosen output format (``--emit nft``, ``--target fcos``) cannot state.

    What it does
        Reported by ``fwc compile`` before anything is written, when a backend is asked
        to render a rule it cannot express exactly: the nftables backend refuses a
        ``raw`` rule whose match module it does not translate, a table other than
        ``filter``, a target it has no statement for, or a comment nft cannot store
        (more than 127 bytes, or a double quote). The finding points at the policy line.
        ``fwc lint`` never reports it: a linted file is not rendered.

    Why is this bad?
        A backend that dropped or approximated the rule would load a firewall that
        behaves differently from the policy (and from the iptables output of the same
        policy), silently. Refusing keeps every backend's output equivalent.

    Example
        # kind: policy
        raw filter "-A INPUT -p tcp --dport 9999 -m recent --set"
        (compiled with ``fwc compile policy.fw --emit nft``)

    Use instead
        # kind: policy
        allow tcp 9999 limit 10/minute per source

    Exceptions
        The iptables output of the same policy may still be fine: emit ``iptables`` /
        ``ip6tables`` (or a target that installs them) when a rule needs a module only
        iptables has.
    """

    code = "FW015"
    name = "target-cannot-express"
    severity = Severity.ERROR
    applies_to = frozenset({"policy"})
    # Emitted by the compile backends, never by a lint run: nothing to run here.
    documentation_only = True
