"""The provisioning reader: YAML view, line mapping of embedded rules, safety limits."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from conftest import ROOT
from fwc.lint import lint_path
from fwc.source import SourceFile
from fwc.wrappers.provisioning import (MAX_ALIASES, MAX_VISITS, read_provisioning, restore_paths, sniff_kind,
                                       view_of)

SEED = ROOT / "tests" / "data" / "seed" / "digitalocean" / "user-data"


def read(text: str, name: str = "user-data"):
    return read_provisioning(SourceFile(name, text))


def position_of(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, col), 1-based, of the n-th occurrence of ``needle`` in ``text``."""
    start = -1
    for _ in range(occurrence):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return line, col


def codes_at(diagnostics, code):
    return [(d.span.line, d.span.col) for d in diagnostics if d.code == code]


# --------------------------------------------------------------------------- the seed


def test_seed_cloud_config_reports_unquoted_permissions():
    found = lint_path(SEED).diagnostics
    assert codes_at(found, "FW502") == [position_of(SEED.read_text(), "0644")]


def test_seed_embedded_rules_errors_point_at_yaml_lines():
    """The scraped rules lack *filter and COMMIT: iptables-restore refuses them, and
    every reader finding lands on a line of the embedded block (12-23), never on the
    YAML around it."""
    text = SEED.read_text()
    doc = read_provisioning(SourceFile.read(SEED))
    errors = [d for d in doc.diagnostics if d.code.startswith("FW0")]
    assert errors, "the reader found nothing wrong with rules lacking *filter and COMMIT"
    first_rule_line, _ = position_of(text, ":INPUT DROP")
    last_rule_line, _ = position_of(text, "--icmp-type 11")
    for d in errors:
        assert first_rule_line <= d.span.line <= last_rule_line + 1, d
        assert d.span.col >= 7, d  # the block is indented by six spaces
    # Without *filter every chain and rule line is outside a table (FW003), each reported
    # at its own YAML line, at the block's indentation.
    assert codes_at(errors, "FW003") == [(n, 7) for n in range(first_rule_line, last_rule_line + 1)]


def test_seed_ruleset_is_read_with_yaml_spans():
    text = SEED.read_text()
    doc = read_provisioning(SourceFile.read(SEED))
    spans = [rule.span for ruleset in doc.rulesets for _, _, rule in ruleset.rules()]
    lines = [s.line for s in spans if s is not None]
    if lines:  # a reader that drops rules outside a table leaves nothing to map
        assert lines[0] == position_of(text, "-A INPUT -i lo")[0]
        assert all(s.path == str(SEED) for s in spans if s is not None)


# --------------------------------------------------------------------------- mapping


BAD_PORT = """#cloud-config
coreos:
  units:
    - name: iptables-restore.service
      enable: true
write_files:
  - path: /var/lib/iptables/rules-save
    permissions: '0644'
    content: |
      *filter
      :INPUT DROP [0:0]
      :FORWARD DROP [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT -i lo -j ACCEPT
      -A INPUT -p tcp --dport 99999 -j ACCEPT
      COMMIT
"""


def test_finding_inside_literal_block_points_at_yaml_line_and_column():
    doc = read(BAD_PORT)
    bad = [d for d in doc.diagnostics if d.code == "FW008"]
    assert bad, [str(d) for d in doc.diagnostics]
    line, col = position_of(BAD_PORT, "99999")
    assert (bad[0].span.line, bad[0].span.col) == (line, col)
    assert bad[0].span.path == "user-data"


def test_explicit_indentation_indicator_maps_columns():
    # `|2` under a mapping at column 5: the content is indented by 4 + 2 spaces, and a
    # line indented further keeps its extra space.
    text = BAD_PORT.replace("content: |", "content: |2").replace("      -A INPUT -p tcp", "       -A INPUT -p tcp")
    doc = read(text)
    bad = [d for d in doc.diagnostics if d.code == "FW008"]
    assert bad and (bad[0].span.line, bad[0].span.col) == position_of(text, "99999")


def test_leading_blank_line_in_block_keeps_line_numbers():
    text = BAD_PORT.replace("content: |\n", "content: |\n\n")
    doc = read(text)
    bad = [d for d in doc.diagnostics if d.code == "FW008"]
    assert bad and (bad[0].span.line, bad[0].span.col) == position_of(text, "99999")


def test_quoted_content_maps_every_finding_to_the_content_key():
    text = ('#cloud-config\nwrite_files:\n  - path: /etc/iptables/rules.v4\n'
            '    content: "*filter\\n:INPUT ACCEPT [0:0]\\n-A INPUT -p tcp --dport 99999 -j ACCEPT\\nCOMMIT\\n"\n')
    doc = read(text)
    bad = [d for d in doc.diagnostics if d.code == "FW008"]
    assert bad and (bad[0].span.line, bad[0].span.col) == position_of(text, "content")
    assert view_of(doc).unmapped and view_of(doc).unmapped[0].line == 4


def test_base64_content_is_decoded_and_mapped_to_its_key():
    rules = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n"
    text = ("#cloud-config\nwrite_files:\n  - path: /etc/iptables/rules.v4\n    encoding: b64\n"
            f"    content: {base64.b64encode(rules.encode()).decode()}\n")
    doc = read(text)
    bad = [d for d in doc.diagnostics if d.code == "FW008"]
    assert bad and (bad[0].span.line, bad[0].span.col) == position_of(text, "content")


def test_butane_inline_literal_is_mapped():
    text = """variant: flatcar
version: 1.0.0
storage:
  files:
    - path: /var/lib/iptables/rules-save
      mode: 0644
      contents:
        inline: |
          *filter
          :INPUT DROP [0:0]
          -A INPUT -p tcp --dport 99999 -j ACCEPT
          COMMIT
systemd:
  units:
    - name: iptables-restore.service
      enabled: true
"""
    doc = read(text, "config.bu")
    assert doc.kind == "butane"
    bad = [d for d in doc.diagnostics if d.code == "FW008"]
    assert bad and (bad[0].span.line, bad[0].span.col) == position_of(text, "99999")
    assert view_of(doc).variant == "flatcar"


def test_ipv6_family_comes_from_the_written_path():
    text = ("#cloud-config\nwrite_files:\n  - path: /var/lib/ip6tables/rules-save\n    content: |\n"
            "      *filter\n      :INPUT DROP [0:0]\n      -A INPUT -s 2001:db8::/32 -j ACCEPT\n      COMMIT\n")
    doc = read(text)
    assert [r.family for r in doc.rulesets] == [6]
    assert not [d for d in doc.diagnostics if d.code == "FW011"]


def test_suppression_comment_in_yaml_applies_to_next_line():
    text = ("#cloud-config\nwrite_files:\n  - path: /etc/motd\n"
            "    # fwc: ignore=FW502 -- the image's cloudinit takes integers\n"
            "    permissions: 0644\n    content: hi\n")
    found = lint_path("user-data", text=text).diagnostics
    assert [d.code for d in found] == []


# --------------------------------------------------------------------------- the view


def test_view_of_ubuntu_cloud_config():
    text = """#cloud-config
packages:
  - iptables-persistent
runcmd:
  - [sh, -c, "iptables-restore < /etc/iptables/rules.v4"]
write_files:
  - path: /etc/iptables/rules.v4
    content: |
      *filter
      :INPUT ACCEPT [0:0]
      COMMIT
"""
    view = view_of(read(text))
    assert view.kind == "cloud-config" and view.variant == "cloud-init"
    assert [(lo.name, lo.source, lo.enabled) for lo in view.loaders] == [
        ("netfilter-persistent.service", "package", True)]
    # runcmd loads the rules on the first boot only: not a loader, but remembered.
    assert list(view.run_once) == ["/etc/iptables/rules.v4"]
    assert [f.target for f in view.rules_files()] == ["/etc/iptables/rules.v4"]


def test_not_a_provisioning_file_yields_nothing():
    doc = read("services:\n  web:\n    image: nginx\n", "docker-compose.yml")
    assert view_of(doc) is None and not doc.diagnostics and not doc.rulesets


def test_yaml_syntax_error_is_fw001_at_its_position():
    text = "#cloud-config\nwrite_files:\n  - path: /etc/a\n    content: [unclosed\n"
    doc = read(text)
    assert [d.code for d in doc.diagnostics] == ["FW001"]
    assert doc.diagnostics[0].span.line == 5 and "YAML" in doc.diagnostics[0].message


def test_alias_bomb_is_refused_quickly():
    lines = ["#cloud-config", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("write_files: *a9")
    started = time.monotonic()
    doc = read("\n".join(lines) + "\n")
    assert time.monotonic() - started < 2
    assert [d.code for d in doc.diagnostics] == ["FW001"]
    assert f"expands to more than {MAX_VISITS} nodes" in doc.diagnostics[0].message


def test_too_many_aliases_are_refused():
    lines = ["#cloud-config", "a: &a x", "b: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]"]
    doc = read("\n".join(lines) + "\n")
    assert [d.code for d in doc.diagnostics] == ["FW001"]
    assert f"more than {MAX_ALIASES} YAML aliases" in doc.diagnostics[0].message
    assert doc.diagnostics[0].span.line == 3


def test_merge_key_chain_is_bounded():
    lines = ["#cloud-config", "m0: &m0 {path: /etc/motd}"]
    for i in range(1, 40):
        lines.append(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}")
    lines.append("write_files: [*m39, *m39]")
    started = time.monotonic()
    doc = read("\n".join(lines) + "\n")
    assert time.monotonic() - started < 2
    assert view_of(doc) is None or all(f.target in (None, "/etc/motd") for f in view_of(doc).files)


def test_recursive_alias_is_refused():
    doc = read("#cloud-config\nwrite_files: &w\n  - *w\n")
    assert [d.code for d in doc.diagnostics] == ["FW001"]
    assert "recursive" in doc.diagnostics[0].message


@pytest.mark.parametrize("text,name,kind", [
    ("#cloud-config\nruncmd: []\n", "x", "cloud-config"),
    ("# cloud-config\n", "x", "cloud-config"),
    ("coreos:\n  units: []\n", "user-data", "cloud-config"),
    ("variant: fcos\nversion: 1.5.0\n", "x.yaml", "butane"),
    ("variant: flatcar\n", "x", "butane"),
    ("services: {}\n", "compose.yaml", None),
])
def test_sniff_kind(text, name, kind):
    assert sniff_kind(text, name) == kind


@pytest.mark.parametrize("text,reads", [
    ("ExecStart=/sbin/iptables-restore /var/lib/iptables/rules-save", [(4, "/var/lib/iptables/rules-save")]),
    ("ExecStart=/usr/sbin/ip6tables-restore -w 5 --noflush /etc/fw6", [(6, "/etc/fw6")]),
    ("ExecStart=/bin/sh -c 'iptables-legacy-restore < /etc/fw.rules'", [(4, "/etc/fw.rules")]),
    ("ExecStart=/usr/sbin/iptables-restore -M /sbin/modprobe /etc/x", [(4, "/etc/x")]),
    ("ExecStart=/usr/sbin/iptables-save", []),
])
def test_restore_paths(text, reads):
    assert list(restore_paths(text)) == reads


# --------------------------------------------------------------------------- round trip

POLICY = """policy input drop
allow loopback
allow established
drop invalid
allow icmp essential
allow tcp 22, 80, 443
allow udp 53 from 10.0.0.0/8
"""


def _families(doc):
    return {r.family: r for r in doc.rulesets}


@pytest.mark.parametrize("target,name", [("coreos", "user-data"), ("flatcar", "config.bu"),
                                         ("ubuntu", "user-data")])
def test_compiled_provisioning_file_reads_back(tmp_path, capsys, target, name):
    """What `fwc compile --target T` writes reads back as the same rulesets, each rule's
    span on the YAML line that holds it, and with no FW5xx finding."""
    from fwc.cli import main
    from fwc.parse.policy import load_policy

    policy = tmp_path / "host.fw"
    policy.write_text(POLICY)
    assert main(["compile", str(policy), "--target", target]) == 0
    text = capsys.readouterr().out
    doc = read(text, name)
    compiled = load_policy(str(policy)).rulesets
    assert sorted(_families(doc)) == [4, 6]
    for family, ruleset in _families(doc).items():
        assert ruleset.tables == compiled[family].tables
    lines = text.splitlines()
    for ruleset in doc.rulesets:
        for _, chain, rule in ruleset.rules():
            line = lines[rule.span.line - 1]
            assert line[rule.span.col - 1:].startswith(f"-A {chain.name} "), (rule.span, line)
    found = lint_path(name, text=text).diagnostics
    assert [d for d in found if d.code.startswith(("FW0", "FW5"))] == []


def test_seed_fix_quotes_permissions_and_nothing_else(tmp_path, capsys):
    from fwc.cli import main

    path = tmp_path / "user-data"
    path.write_text(SEED.read_text())
    main(["lint", "--fix", "--format", "concise", str(path)])
    out = capsys.readouterr().out
    assert path.read_text() == SEED.read_text().replace("permissions: 0644", "permissions: '0644'")
    assert "FW502" not in out and "FW003" in out  # the missing *filter is not a safe fix


@pytest.mark.parametrize("name,text", [
    (".pre-commit-config.yaml", "repos:\n  - repo: local\n    hooks:\n      - id: x\n        entry: x\n"),
    ("docker-compose.yml", "services:\n  redis:\n    image: redis\n    ports: ['6379:6379']\n"),
    ("chart/templates/svc.yaml", "metadata:\n  name: {{ .Release.Name }}\n  labels: {{- toYaml . | nindent 4 }}\n"),
    (".github/workflows/ci.yml", "on: [push]\njobs:\n  t:\n    runs-on: ubuntu-latest\n"),
    ("user-data", "#cloud-config\npackages: [vim]\n"),
])
def test_yaml_that_embeds_no_rules_passes_the_linter(tmp_path, capsys, name, text):
    from fwc.cli import main

    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    assert main(["lint", "--format", "concise", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_butane_local_file_findings_point_at_that_file(tmp_path):
    rules = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n"
    (tmp_path / "rules-save").write_text(rules)
    config = tmp_path / "config.bu"
    config.write_text("variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n"
                      "    - path: /var/lib/iptables/rules-save\n      contents:\n        local: rules-save\n"
                      "systemd:\n  units:\n    - name: iptables-restore.service\n      enabled: true\n")
    doc = read_provisioning(SourceFile.read(config))
    (bad,) = [d for d in doc.diagnostics if d.code == "FW008"]
    assert (bad.span.path, bad.span.line, bad.span.col) == (str(tmp_path / "rules-save"), *position_of(rules, "99999"))
    assert doc.source_for(bad.span.path).line(3).startswith("-A INPUT")
    assert not [d for d in lint_path(config).diagnostics if d.code.startswith("FW5")]


@pytest.mark.parametrize("url", [
    "data:,%2Afilter%0A%3AINPUT%20DROP%20%5B0%3A0%5D%0A-A%20INPUT%20-p%20tcp%20--dport%2099999%20-j%20ACCEPT%0ACOMMIT%0A",
    "data:;base64," + base64.b64encode(
        b"*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n").decode(),
])
def test_butane_data_url_is_decoded_and_mapped_to_its_key(url):
    text = ("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/sysconfig/iptables\n"
            f"      contents:\n        source: \"{url}\"\n")
    doc = read(text, "config.bu")
    (bad,) = [d for d in doc.diagnostics if d.code == "FW008"]
    assert (bad.span.line, bad.span.col) == position_of(text, "source")


def test_butane_gzip_data_url():
    import gzip

    payload = base64.b64encode(gzip.compress(b"*filter\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n")).decode()
    text = ("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/sysconfig/iptables\n"
            f"      contents:\n        compression: gzip\n        source: data:;base64,{payload}\n")
    doc = read(text, "config.bu")
    assert [d.code for d in doc.diagnostics if d.code == "FW008"] == ["FW008"]
