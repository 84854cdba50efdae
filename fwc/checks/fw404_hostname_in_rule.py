"""FW404 hostname-in-rule."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from ..model import Addr, Opaque
from ..source import Span
from . import _walk as w
from .base import Check, Context

_ADDRESS_OPTIONS = {"-s": "source", "--source": "source", "-d": "destination", "--destination": "destination"}


def hostname_of(cond) -> tuple[str, str] | None:
    """(which side, name) when a condition is an address written as a DNS name.

    The reader keeps such an address as an unmodelled condition with the option and the
    name verbatim (it cannot know what the name resolves to)."""
    if isinstance(cond, Opaque) and not cond.module and len(cond.args) == 2 and cond.args[0] in _ADDRESS_OPTIONS:
        return _ADDRESS_OPTIONS[cond.args[0]], cond.args[1]
    if isinstance(cond, Addr) and isinstance(cond.value, str):
        return ("source" if cond.field == "src" else "destination"), cond.value
    return None


class HostnameInRule(Check):
    """A rule's address is a DNS name: iptables resolves it once, when the rules load.

    What it does
        Reports `-s` / `-d` values that are host names rather than addresses.

    Why is this bad?
        iptables looks the name up when the rule is added and stores the addresses it got
        then. When the name later points elsewhere the rule still allows (or blocks) the
        old address; if DNS is not reachable at boot (it often is not, the firewall comes
        up first) the whole restore fails and the host boots without a firewall. A name
        with several addresses silently becomes several rules.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -s backup.example.com -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -s 192.0.2.10/32 -p tcp -m tcp --dport 22 -j ACCEPT
        COMMIT

    Exceptions
        A name in `/etc/hosts` resolves without DNS, but it still freezes the address at
        load time; prefer the address with a comment naming the host, or an ipset updated
        by a job.
    """

    code = "FW404"
    name = "hostname-in-rule"
    severity = Severity.WARNING

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        seen: set[Span] = set()
        for ruleset in ctx.rulesets:
            for rule, cond in w.rule_facts(ctx, ruleset).hostnames:
                span = cond.span or rule.span
                if span is None or span in seen:
                    continue
                seen.add(span)
                side, name = hostname_of(cond)
                yield self.diag(span,
                                f"the {side} address {name!r} is a DNS name: it is resolved once when "
                                "the rules load, and a failed lookup stops the whole restore",
                                help="write the address (with a comment naming the host)")
