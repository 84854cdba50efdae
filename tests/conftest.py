"""Shared fixtures.

System tests need the real iptables/nft tools and root (for network namespaces). Without
them they skip, unless FWC_SYSTEM_TESTS=1 is set (CI sets it): then they fail, so a CI
machine that lost its tools cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SYSTEM = os.environ.get("FWC_SYSTEM_TESTS") == "1"


def need(condition: bool, why: str) -> None:
    """Skip (or fail under FWC_SYSTEM_TESTS=1) when a system requirement is missing."""
    if condition:
        return
    if SYSTEM:
        pytest.fail(f"FWC_SYSTEM_TESTS=1 but {why}")
    pytest.skip(why)


def need_tool(*names: str) -> None:
    for name in names:
        need(shutil.which(name) is not None, f"{name} is not installed")


def need_root() -> None:
    need(os.geteuid() == 0, "root is needed for network namespaces")


@pytest.fixture
def netns():
    """A throwaway network namespace; yields a function that runs argv inside it."""
    need_root()
    need_tool("ip")
    name = f"fwc-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)

        def run(argv, **kw):
            kw.setdefault("capture_output", True)
            kw.setdefault("text", True)
            return subprocess.run(["ip", "netns", "exec", name, *argv], **kw)

        run.name = name
        yield run
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def shared_corpus() -> Path:
    corpus = SHARED / "corpus"
    need(corpus.is_dir(), f"{corpus} is not present")
    return corpus
