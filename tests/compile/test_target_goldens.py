"""Goldens for the nftables emitter and the ubuntu, flatcar and fcos targets: every
``tests/compile/<case>/policy.fw`` compiled with each, compared byte for byte with

    nftables.nft      fwc compile policy.fw --emit nft
    ubuntu.user-data  fwc compile policy.fw --target ubuntu
    flatcar.bu        fwc compile policy.fw --target flatcar
    fcos.bu           fwc compile policy.fw --target fcos

or, when the compile must fail, ``<name>.stderr`` (the diagnostics as printed). Regenerate
only on purpose, like the other goldens (``FWC_REGEN_GOLDENS=1 pytest tests/compile``),
and review ``git diff tests/compile`` before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fwc.cli import main

HERE = Path(__file__).resolve().parent
CASES = sorted(p.parent.name for p in HERE.glob("*/policy.fw"))
GOLDENS = {
    "nftables.nft": ["--emit", "nft"],
    "ubuntu.user-data": ["--target", "ubuntu"],
    "flatcar.bu": ["--target", "flatcar"],
    "fcos.bu": ["--target", "fcos"],
}
REGEN = os.environ.get("FWC_REGEN_GOLDENS") == "1"


def compile_case(case: str, args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(HERE / case)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    code = main(["compile", "policy.fw", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_target_cases_exist():
    assert {"targets-mixed", "targets-raw-recent"} <= set(CASES)


@pytest.mark.parametrize("name", sorted(GOLDENS))
@pytest.mark.parametrize("case", CASES)
def test_target_output_matches_golden(case, name, capsys, monkeypatch):
    case_dir = HERE / case
    code, out, err = compile_case(case, GOLDENS[name], capsys, monkeypatch)
    assert code in (0, 1), err
    good, bad = case_dir / name, case_dir / f"{name}.stderr"
    if REGEN:
        keep, drop, text = (good, bad, out) if code == 0 else (bad, good, err)
        keep.write_text(text, encoding="utf-8")
        drop.unlink(missing_ok=True)
    assert good.exists() != bad.exists(), (
        f"{case}: exactly one of {name} and {name}.stderr must exist "
        "(FWC_REGEN_GOLDENS=1 pytest tests/compile writes them)")
    if good.exists():
        assert code == 0, f"{case}: compile failed but {name} expects success:\n{err}"
        assert out == good.read_text(encoding="utf-8")
    else:
        assert code == 1, f"{case}: compile succeeded but {name}.stderr expects failure"
        assert (out, err) == ("", bad.read_text(encoding="utf-8"))


def test_nft_refusal_points_at_the_raw_rule():
    err = (HERE / "targets-raw-recent" / "nftables.nft.stderr").read_text(encoding="utf-8")
    assert err.startswith("policy.fw:9:42: FW015 the nftables output cannot express the "
                          "`-m recent` match")
    assert (HERE / "targets-raw-recent" / "fcos.bu.stderr").read_text(encoding="utf-8") == err
    assert (HERE / "targets-raw-recent" / "flatcar.bu").exists()  # iptables can say it
