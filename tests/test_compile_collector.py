"""Compiling pauses the cyclic garbage collector and leaves it as it found it."""

from __future__ import annotations

import gc

import pytest

from fwc import cli
from fwc.parse.policy import load_policy

POLICY = "policy input drop\nallow loopback\nallow established\nallow tcp 22 from 10.0.0.0/8\n"


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "host.fw"
    path.write_text(POLICY)
    return path


@pytest.mark.parametrize("enabled", [True, False])
def test_compile_restores_the_collector(policy, capsys, enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        assert cli.main(["compile", str(policy), "--emit", "iptables"]) == 0
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT" in capsys.readouterr().out


def test_load_policy_restores_the_collector_even_when_it_fails(tmp_path, monkeypatch):
    from fwc.parse import policy as frontend

    assert gc.isenabled()
    assert load_policy(tmp_path / "host.fw", text=POLICY).ok
    assert gc.isenabled()

    def fail(self, source):
        assert not gc.isenabled()  # paused while lowering
        raise RuntimeError("boom")

    monkeypatch.setattr(frontend._Loader, "run", fail)
    with pytest.raises(RuntimeError):
        load_policy(tmp_path / "host.fw", text=POLICY)
    assert gc.isenabled()
