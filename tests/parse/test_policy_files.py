"""Policies as files: includes, header directives, comments, sources, `raw`, and the
example policies in rulesets/."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from fwc.model import Opaque, Ports, Proto
from fwc.parse.policy import load_policy
from model_cases import WORKED_EXAMPLE_POLICY

RULESETS = sorted((ROOT / "rulesets").glob("*.fw"))


def write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def input_texts(result, family=4):
    return [r.text for r in result.rulesets[family].table("filter").chain("INPUT").rules]


def test_includes_expand_in_place_relative_to_the_including_file(tmp_path):
    write(tmp_path, {
        "main.fw": "allow loopback\ninclude \"common/base.fw\"\nallow tcp 80\n",
        "common/base.fw": "define admins = 10.0.0.0/8\ninclude \"ssh.fw\"\n",
        "common/ssh.fw": "allow ssh from $admins\n",
    })
    result = load_policy(tmp_path / "main.fw")
    assert result.diagnostics == []
    assert input_texts(result) == ["allow loopback", "allow ssh from $admins", "allow tcp 80"]
    ssh = result.rulesets[4].table("filter").chain("INPUT").rules[1]
    assert (ssh.span.path, ssh.span.line) == (str(tmp_path / "common" / "ssh.fw"), 1)
    assert sorted(Path(p).name for p in result.sources) == ["base.fw", "main.fw", "ssh.fw"]


def test_definitions_from_an_include_are_visible_after_it(tmp_path):
    write(tmp_path, {"main.fw": 'include "defs.fw"\nallow tcp $web\n', "defs.fw": "define web = 80, 443\n"})
    result = load_policy(tmp_path / "main.fw")
    assert result.diagnostics == []
    assert input_texts(result) == ["allow tcp $web"]


def test_include_cycle_shows_the_chain_of_files(tmp_path):
    write(tmp_path, {"a.fw": 'allow tcp 1\ninclude "b.fw"\n', "b.fw": 'include "c.fw"\n', "c.fw": 'include "a.fw"\nallow tcp 3\n'})
    result = load_policy(tmp_path / "a.fw")
    (d,) = result.diagnostics
    a, b, c = (str(tmp_path / n) for n in ("a.fw", "b.fw", "c.fw"))
    assert (d.code, d.span.path, d.span.line, d.span.col) == ("FW001", c, 1, 9)
    assert d.message == f"include cycle: {a} -> {b} -> {c} -> {a}"
    assert input_texts(result) == ["allow tcp 1", "allow tcp 3"]


def test_a_file_including_itself(tmp_path):
    write(tmp_path, {"a.fw": 'include "./a.fw"\n'})
    (d,) = load_policy(tmp_path / "a.fw").diagnostics
    assert d.message == f"include cycle: {tmp_path / 'a.fw'} -> {tmp_path / 'a.fw'}"


def test_missing_include_is_reported_at_the_include(tmp_path):
    write(tmp_path, {"a.fw": 'allow tcp 1\n  include "nope.fw"\n'})
    (d,) = load_policy(tmp_path / "a.fw").diagnostics
    assert (d.code, d.span.line, d.span.col) == ("FW001", 2, 11)
    assert d.message.startswith("cannot include `nope.fw` (") and d.message.endswith("No such file or directory")


def test_errors_in_an_included_file_point_into_it(tmp_path):
    write(tmp_path, {"a.fw": 'include "b.fw"\n', "b.fw": "\nallow tcp 99999\n"})
    (d,) = load_policy(tmp_path / "a.fw").diagnostics
    assert (d.span.path, d.span.line, d.span.col) == (str(tmp_path / "b.fw"), 2, 11)


def test_comments_are_kept_with_positions():
    text = "# header\nallow tcp 22  # fwc: ignore=FW301 -- reason\n  # indented\nallow tcp 1 comment \"# not a comment\"\n"
    result = load_policy("p.fw", text=text)
    assert [(c.span.line, c.span.col, c.text, c.own_line) for c in result.comments] == [
        (1, 1, " header", True),
        (2, 15, " fwc: ignore=FW301 -- reason", False),
        (3, 3, " indented", True),
    ]
    assert result.rulesets[4].table("filter").chain("INPUT").rules[1].comment == "# not a comment"


def test_output_directives_in_the_header(tmp_path):
    text = ("# Web server.\n# fwc: output user-data target=coreos\n# fwc: output rules.v4 emit=iptables\n"
            "allow tcp 80\n# fwc: output ignored.txt\n")
    result = load_policy(tmp_path / "web.fw", text=text)
    assert result.diagnostics == []
    outputs = [{k: v for k, v in o.items() if k != "span"} for o in result.directives["outputs"]]
    assert outputs == [
        {"path": "user-data", "resolved": str(tmp_path / "user-data"), "target": "coreos", "emit": None},
        {"path": "rules.v4", "resolved": str(tmp_path / "rules.v4"), "target": None, "emit": "iptables"},
    ]
    assert result.directives["outputs"][0]["span"].line == 2


def test_bad_output_directive():
    result = load_policy("p.fw", text="# fwc: output user-data targte=coreos\n# fwc: output\n")
    assert [(d.code, d.span.line, d.message) for d in result.diagnostics] == [
        ("FW001", 1, "unknown setting `targte=coreos` in `fwc: output`: did you mean `target=`?"),
        ("FW001", 2, "`fwc: output` needs the path of the compiled file"),
    ]


def test_raw_rule_passes_through_to_both_families():
    text = 'allow ssh\nraw filter "-A INPUT -p tcp --dport 9999 -m recent --set"\n'
    result = load_policy("p.fw", text=text)
    assert result.diagnostics == []
    for family in (4, 6):
        raw = result.rulesets[family].table("filter").chain("INPUT").rules[1]
        assert raw.match.conds == (Proto("tcp"), Ports("dport", ((9999, 9999),), module="tcp"),
                                   Opaque("recent", ("--set",), known=True))
        assert raw.target is None
        assert (raw.span.line, raw.span.col) == (2, 1)
        assert raw.text == 'raw filter "-A INPUT -p tcp --dport 9999 -m recent --set"'


def test_raw_rule_with_an_ipv4_address_goes_to_ipv4_only():
    result = load_policy("p.fw", text='raw filter "-A INPUT -s 10.0.0.1 -j DROP"\n')
    assert result.diagnostics == []
    assert len(result.rulesets[4].table("filter").chain("INPUT").rules) == 1
    assert result.rulesets[6].table("filter").chain("INPUT").rules == ()


def test_raw_rule_errors_point_inside_the_string():
    result = load_policy("p.fw", text='raw filter "-A INPUT -p tcp --dprot 22 -j ACCEPT"\n')
    (d,) = result.diagnostics
    assert (d.code, d.span.line, d.span.col) == ("FW009", 1, 29)


def test_raw_rule_must_use_a_builtin_chain_and_the_filter_table():
    assert [d.message for d in load_policy("p.fw", text='raw filter "-A FOO -j ACCEPT"').diagnostics] == [
        "a raw rule must append to INPUT, FORWARD or OUTPUT, not `FOO`"]
    assert [d.message for d in load_policy("p.fw", text='raw nat "-A INPUT -j ACCEPT"').diagnostics] == [
        "`raw nat` is not supported: a policy compiles the filter table"]


@pytest.mark.parametrize("path", RULESETS, ids=[p.name for p in RULESETS])
def test_example_policies_load_cleanly_and_say_who_they_are_for(path):
    result = load_policy(path)
    assert result.diagnostics == []
    assert path.read_text().startswith("# For: ")
    assert any(True for _ in result.rulesets[4].rules())


def test_the_example_set_is_complete():
    assert {p.name for p in RULESETS} >= {"digitalocean.fw", "etcd-cluster.fw", "webserver.fw", "bastion.fw", "mailserver.fw"}


WORKED_EXAMPLE = WORKED_EXAMPLE_POLICY


def test_digitalocean_example_is_the_worked_example_for_ipv4():
    ours = load_policy(ROOT / "rulesets" / "digitalocean.fw").rulesets[4]
    spec = load_policy("spec.fw", text=WORKED_EXAMPLE).rulesets[4]
    assert ours == spec


def test_raw_rule_warnings_are_reported_once_and_point_inside_the_string():
    result = load_policy("p.fw", text='raw filter "-A INPUT -s 10.0.0.1/8 -j DROP"\n')
    assert [(d.code, d.span.line, d.span.col) for d in result.diagnostics] == [("FW010", 1, 25)]
    assert len(result.rulesets[4].table("filter").chain("INPUT").rules) == 1
