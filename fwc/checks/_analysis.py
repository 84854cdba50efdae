"""Shared plumbing for the checks built on the packet-space analysis (FW2xx)."""

from __future__ import annotations

from typing import ClassVar, Iterator

from ..analysis import facts
from ..analysis.anomalies import Anomaly
from ..diagnostics import Diagnostic
from .base import Check, Context


class AnomalyCheck(Check):
    """Reports the anomalies of one ``kind`` found by :mod:`fwc.analysis.anomalies`."""

    kind: ClassVar[str] = ""
    related_label: ClassVar[str] = "earlier rule"

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        found = facts.anomalies(ctx)
        for ruleset in ctx.rulesets:
            for anomaly in found.get(id(ruleset), ()):
                if anomaly.kind != self.kind:
                    continue
                yield self.diag(
                    facts.rule_span(anomaly.ref, ruleset, ctx),
                    self.message(anomaly),
                    related=facts.related(anomaly.related, ruleset, ctx, self.related_label),
                    help=self.help_text(anomaly),
                    witness=facts.witness_text(anomaly.witness, ruleset, anomaly.ref.chain.name),
                )

    def message(self, anomaly: Anomaly) -> str:
        return f"{self.name}: {anomaly.ref.where}"

    def help_text(self, anomaly: Anomaly) -> str | None:
        return None


def verdict(rule) -> str:
    if rule.target is None:
        return "no target"
    return ("goto " if rule.target.goto else "") + rule.target.name


def rule_list(anomaly: Anomaly) -> str:
    return ", ".join(f"rule {r.index} ({verdict(r.rule)})" for r in anomaly.related)
