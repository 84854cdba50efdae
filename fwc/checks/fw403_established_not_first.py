"""FW403 established-not-first."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Severity
from . import _walk as w
from .base import Check, Context
from .fw101_missing_established import reply_probes


class EstablishedNotFirst(Check):
    """The RELATED,ESTABLISHED accept comes after many rules every packet is tested against.

    What it does
        Follows a packet of an established connection through INPUT, counting the rules it
        is compared with (inside user chains too) before the rule that accepts it, and
        reports that accept when more than `max-before` rules come first.

    Why is this bad?
        Almost every packet a host receives belongs to an established connection. Each
        rule in front of the established accept costs a comparison for every one of them;
        with hundreds of rules (port lists, blocklists) that is measurable CPU under load.

    Example
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -s 192.0.2.1/32 -j DROP
        -A INPUT -s 192.0.2.2/32 -j DROP
        -A INPUT -s 192.0.2.3/32 -j DROP
        -A INPUT -s 192.0.2.4/32 -j DROP
        -A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        COMMIT

    Use instead
        # kind: rules
        *filter
        :INPUT DROP [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -i lo -j ACCEPT
        -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
        -A INPUT -s 192.0.2.1/32 -j DROP
        -A INPUT -s 192.0.2.2/32 -j DROP
        -A INPUT -s 192.0.2.3/32 -j DROP
        -A INPUT -s 192.0.2.4/32 -j DROP
        -A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT
        COMMIT

    Exceptions
        Blocklists that must also cut existing connections (`-s BAD -j DROP` meant to
        end a session at once) have to come first; suppress with that reason. The
        loopback accept and an INVALID drop before it are cheap and count towards the
        limit like any other rule.

    Options
        max-before (default 4): how many rules may be tested before the accept.
    """

    code = "FW403"
    name = "established-not-first"
    severity = Severity.INFO
    options = {"max-before": 4}

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        limit = int(w.option(ctx, self, "max-before"))
        for ruleset in w.rulesets_with_filter(ctx):
            probe = reply_probes("INPUT", ruleset.family)[0]
            outcome = w.walk_cached(ctx, ruleset, "INPUT", probe, bad=w.ACCEPTS, maybe_decides=None)
            if outcome is None or outcome.kind != "bad" or outcome.rule is None:
                continue
            if not w.is_established_accept(outcome.rule.match.conds):
                continue
            before = outcome.tested - 1
            if before > limit and outcome.rule.span is not None:
                yield self.diag(outcome.rule.span,
                                f"the RELATED,ESTABLISHED accept comes after {before} rules: every packet "
                                f"of an established connection is compared with them first",
                                help="move it to the top of INPUT (after the loopback accept)")
