"""Acceptance of the rules-save reader against iptables 1.8.9 (bench/conformance.py):
>= 99 % of the corpus cases iptables accepted read without an FW0xx error, >= 60 % of
those it refused get one, and every real-world file is judged like the kernel did."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _conformance():
    spec = importlib.util.spec_from_file_location("conformance", ROOT / "bench" / "conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_iptables_corpus_conformance(shared_corpus, capsys):
    status = _conformance().main([str(shared_corpus)])
    report = capsys.readouterr().out
    assert status == 0, report
    assert "conformance: PASS" in report


def test_rates_are_computed_from_the_cases(shared_corpus):
    cases = _conformance().run_cases(shared_corpus, verbose=False)
    assert cases["accepted"] > 1000 and cases["rejected"] > 500
    assert cases["clean_rate"] >= 0.99
    assert cases["caught_rate"] >= 0.60
