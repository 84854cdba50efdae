"""On the real rulesets of the shared corpus, a "dead rule" finding (FW201 shadowed,
FW202 redundant, FW204 after a catch-all) must rest only on rules whose every match
the analysis models: no covering rule may carry an opaque condition, a rate limit, or a
``-m`` module outside the modelled ones (a module the reader dropped silently would
show up here). The corpus files are read exactly as ``fwc lint`` reads them.
"""

from __future__ import annotations

import re

from fwc.analysis import facts
from fwc.analysis.anomalies import AFTER_CATCH_ALL, REDUNDANT, SHADOWED
from fwc.checks.base import Context
from fwc.diagnostics import FwcError
from fwc.load import load_document
from fwc.model import Opaque, Rate

MODELLED_MODULES = {"tcp", "udp", "sctp", "udplite", "multiport", "conntrack", "state", "icmp",
                    "icmp6", "iprange", "comment"}
DEAD = {SHADOWED, REDUNDANT, AFTER_CATCH_ALL}


def _dead_rule_findings(corpus):
    for path in sorted(p for sub in ("real", "fixtures") for p in (corpus / sub).iterdir()):
        try:
            document = load_document(path)
        except FwcError:
            continue  # not a rules file fwc reads (the corpus holds a few other formats)
        found = facts.anomalies(Context(document))
        for ruleset in document.rulesets:
            for anomaly in found[id(ruleset)]:
                if anomaly.kind in DEAD:
                    yield path.name, anomaly


def test_dead_rule_claims_rest_on_modelled_matches_only(shared_corpus):
    claims = 0
    for name, anomaly in _dead_rule_findings(shared_corpus):
        claims += 1
        for cover in anomaly.related:
            text = cover.rule.text or ""
            unmodelled = set(re.findall(r"-m (\S+)", text)) - MODELLED_MODULES
            opaque = [c for c in cover.rule.match.conds if isinstance(c, (Opaque, Rate))]
            assert not unmodelled and not opaque, (
                f"{name}: {anomaly.kind} finding on {anomaly.ref.where} rests on "
                f"{cover.where} with an unmodelled match: {text}")
    assert claims > 0  # the corpus does hold dead rules; an empty run proves nothing
