"""`fwc check-outputs`: declared compiled outputs compared with the committed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwc.cli import main
from fwc.outputs import config_outputs, directive_outputs

POLICY = """policy input drop
policy forward drop
policy output accept
allow loopback
allow established
drop invalid
allow icmp essential
allow tcp 22
"""

CONFIG = """[[outputs]]
policy = "web.fw"
path = "out/user-data"

[[outputs]]
policy = "web.fw"
path = "out/rules.v4"
emit = "iptables"
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "web.fw").write_text(POLICY)
    (tmp_path / ".fwc.toml").write_text(CONFIG)
    assert main(["compile", "web.fw", "-o", "out/user-data"]) == 0
    assert main(["compile", "web.fw", "--emit", "iptables", "-o", "out/rules.v4"]) == 0
    return tmp_path


def test_fresh_outputs_pass(project, capsys):
    assert main(["check-outputs"]) == 0
    assert "2 declared output(s), 0 stale or failing" in capsys.readouterr().err


def test_policy_edited_without_recompiling_is_stale_with_a_diff(project, capsys):
    (project / "web.fw").write_text(POLICY + "allow tcp 8080\n")
    before = (project / "out" / "rules.v4").read_text()
    assert main(["check-outputs"]) == 1
    captured = capsys.readouterr()
    assert "+-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT\n" in captured.out
    assert "\n--- out/rules.v4" in captured.out and "\n+++ out/rules.v4" in captured.out
    assert "would recompile: out/user-data; run: fwc compile web.fw -o out/user-data" in captured.err
    assert "would recompile: out/rules.v4; run: fwc compile web.fw --emit iptables -o out/rules.v4" in captured.err
    assert (project / "out" / "rules.v4").read_text() == before  # --check style: nothing written


def test_write_recompiles_then_check_passes(project, capsys):
    (project / "web.fw").write_text(POLICY + "allow tcp 8080\n")
    assert main(["check-outputs", "--write"]) == 0
    assert "2 recompiled, 0 failing" in capsys.readouterr().err
    assert "--dport 8080" in (project / "out" / "rules.v4").read_text()
    assert main(["check-outputs"]) == 0


def test_hand_edited_output_is_stale(project, capsys):
    path = project / "out" / "user-data"
    path.write_text(path.read_text().replace("--dport 22", "--dport 2222"))
    assert main(["check-outputs"]) == 1
    assert "would recompile: out/user-data" in capsys.readouterr().err


def test_missing_output_fails(project, capsys):
    (project / "out" / "rules.v4").unlink()
    assert main(["check-outputs"]) == 1
    assert "would create: out/rules.v4; run: fwc compile web.fw --emit iptables -o out/rules.v4" in capsys.readouterr().err


def test_policy_with_errors_fails(project, capsys):
    (project / "web.fw").write_text(POLICY + "allow tcp 99999\n")
    assert main(["check-outputs"]) == 1
    err = capsys.readouterr().err
    assert "web.fw:9:" in err and "does not compile" in err


def test_only_the_named_policies(project, capsys):
    (project / "other.fw").write_text(POLICY)
    (project / "web.fw").write_text(POLICY + "allow tcp 8080\n")
    assert main(["check-outputs", "other.fw"]) == 0


def test_no_declared_outputs_is_not_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check-outputs"]) == 0
    assert "no declared outputs" in capsys.readouterr().err


@pytest.mark.parametrize("entry,message", [
    ('[[outputs]]\npolicy = "web.fw"\n', "outputs[0]: path must be a non-empty string"),
    ('[[outputs]]\npolicy = "web.fw"\npath = "x"\nformat = "y"\n', "outputs[0]: unknown key 'format'"),
    ('outputs = "web.fw"\n', "must be an array of tables"),
])
def test_bad_output_entries_are_config_errors(tmp_path, monkeypatch, capsys, entry, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".fwc.toml").write_text(entry)
    assert main(["check-outputs"]) == 2
    assert message in capsys.readouterr().err


def test_outputs_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.fwc]\n\n[[tool.fwc.outputs]]\npolicy = "a.fw"\npath = "b"\n')
    (out,) = config_outputs(tmp_path / "pyproject.toml")
    assert (out.policy, out.path, out.emit) == (tmp_path / "a.fw", tmp_path / "b", None)


def test_directive_outputs_are_relative_to_the_policy():
    policy = Path("hosts/web.fw")
    outs = directive_outputs(policy, {"outputs": [{"path": "user-data"},
                                                  {"path": "rules.v4", "emit": "iptables"}]})
    assert [(o.path, o.emit) for o in outs] == [(Path("hosts/user-data"), None),
                                               (Path("hosts/rules.v4"), "iptables")]
    assert directive_outputs(policy, {}) == []


def test_outputs_declared_in_the_policy_header(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hosts").mkdir()
    policy = tmp_path / "hosts" / "web.fw"
    policy.write_text("# fwc: output rules.v4 emit=iptables\n" + POLICY)
    assert main(["check-outputs"]) == 1
    assert "would create: hosts/rules.v4; run: fwc compile hosts/web.fw --emit iptables -o hosts/rules.v4" \
        in capsys.readouterr().err
    assert main(["check-outputs", "--write"]) == 0
    assert (tmp_path / "hosts" / "rules.v4").read_text().startswith("#")
    assert main(["check-outputs"]) == 0
    # The header directive is not a malformed suppression for the linter.
    assert main(["lint", "--format", "concise", "--select", "FW902", str(policy)]) == 0
    policy.write_text(policy.read_text() + "allow tcp 8080\n")
    capsys.readouterr()
    assert main(["check-outputs"]) == 1
    captured = capsys.readouterr()
    assert "+-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT\n" in captured.out
    assert "FW107" not in captured.err  # warnings of a compile that works are not repeated
