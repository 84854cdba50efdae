"""The wheel must carry the grammars and every subpackage (grammar/ lives outside fwc/)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with the setuptools already installed (CI may be offline).
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (found,) = out.glob("fwc-*.whl")
    return found


def test_wheel_contains_every_grammar(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    grammars = sorted(p.name for p in (ROOT / "grammar").glob("*.lark"))
    assert grammars, "grammar/ holds no .lark file"
    for g in grammars:
        assert f"fwc/grammar/{g}" in names


def test_wheel_contains_every_package_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fwc").rglob("*.py"))
    missing = [m for m in modules if m not in names]
    assert not missing, f"modules left out of the wheel (add their package to pyproject.toml): {missing}"
