"""`fwc lint --fix` / `--diff`: safe fixes applied by span, idempotent, lint clean after."""

from __future__ import annotations

import re

import pytest

from fwc.cli import main
from fwc.diagnostics import Edit, Fix
from fwc.fixes import apply_fixes
from fwc.source import Span


def fix(*edits, safe=True):
    return Fix("test", tuple(Edit(Span("f", *e[:4]), e[4]) for e in edits), safe=safe)


def test_apply_fixes_edits_by_span():
    text = "abc def\nghi\n"
    new, count = apply_fixes(text, [fix((1, 5, 1, 8, "XYZ")), fix((2, 1, 2, 1, "> "))])
    assert (new, count) == ("abc XYZ\n> ghi\n", 2)


def test_apply_fixes_skips_a_fix_overlapping_an_earlier_one_whole():
    text = "one two three\n"
    first = fix((1, 1, 1, 8, "1 2"))
    overlapping = fix((1, 14, 1, 14, "!"), (1, 5, 1, 8, "TWO"))  # its 2nd edit overlaps
    new, count = apply_fixes(text, [first, overlapping])
    assert (new, count) == ("1 2 three\n", 1)


def test_apply_fixes_clamps_to_line_end_and_keeps_crlf():
    new, _ = apply_fixes("a\r\nb\r\n", [fix((1, 2, 1, 99, "!"))])
    assert new == "a!\r\nb\r\n"


# --------------------------------------------------------------------------- the CLI

UNQUOTED = """#cloud-config
write_files:
  - path: /etc/a
    permissions: 0644
    content: a
  - {path: /etc/b, permissions: 0600, content: b}
  - path: /etc/c
    permissions: 644
    content: c
"""


def lint(*argv):
    return main(["lint", "--format", "concise", *map(str, argv)])


def test_diff_shows_the_fix_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "user-data"
    path.write_text(UNQUOTED)
    assert lint(path, "--diff") == 1
    out = capsys.readouterr().out
    assert "-    permissions: 0644\n+    permissions: '0644'\n" in out
    assert "+  - {path: /etc/b, permissions: '0600', content: b}\n" in out
    # 644 (no leading zero) reads as decimal: quoting changes the mode, so it is unsafe.
    assert "'644'" not in out
    assert path.read_text() == UNQUOTED


def test_fix_writes_only_safe_fixes_and_is_idempotent(tmp_path, capsys):
    path = tmp_path / "user-data"
    path.write_text(UNQUOTED)
    assert lint(path, "--fix") == 1  # the unsafe 644 is left, so FW502 remains once
    fixed = path.read_text()
    assert fixed == UNQUOTED.replace("permissions: 0644", "permissions: '0644'").replace(
        "permissions: 0600", "permissions: '0600'")
    out = capsys.readouterr().out
    assert out.count("FW502") == 1 and ":8:18:" in out
    assert lint(path, "--fix") == 1
    assert path.read_text() == fixed
    assert lint(path, "--diff") == 0


def test_fix_leaves_file_clean_of_the_fixed_code(tmp_path, capsys):
    path = tmp_path / "user-data"
    path.write_text(UNQUOTED.replace("permissions: 644", "permissions: '0644'"))
    lint(path, "--fix")
    capsys.readouterr()
    assert lint(path, "--select", "FW502") == 0


RULES_WITH_STATE = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m state --state NEW -j ACCEPT
COMMIT
"""


def test_fix_rewrites_state_to_conntrack_in_a_rules_file(tmp_path, capsys):
    path = tmp_path / "rules.v4"
    path.write_text(RULES_WITH_STATE)
    lint(path, "--fix")
    capsys.readouterr()
    assert path.read_text() == RULES_WITH_STATE.replace("-m state --state", "-m conntrack --ctstate")
    assert lint(path, "--select", "FW401") == 0
    assert lint(path, "--diff") == 0


def test_fix_rewrites_state_inside_a_cloud_config_block(tmp_path, capsys):
    body = "".join("      " + line + "\n" for line in RULES_WITH_STATE.splitlines())
    text = ("#cloud-config\ncoreos:\n  units:\n    - name: iptables-restore.service\n      enable: true\n"
            "write_files:\n  - path: /var/lib/iptables/rules-save\n    permissions: 0644\n    content: |\n" + body)
    path = tmp_path / "user-data"
    path.write_text(text)
    lint(path, "--fix")
    capsys.readouterr()
    assert path.read_text() == text.replace("-m state --state", "-m conntrack --ctstate").replace(
        "permissions: 0644", "permissions: '0644'")
    assert lint(path, "--select", "FW401,FW502") == 0


def test_fix_never_edits_rules_it_cannot_map_line_for_line(tmp_path, capsys):
    text = ('#cloud-config\nwrite_files:\n  - path: /etc/iptables/rules.v4\n    content: "*filter\\n'
            ':INPUT DROP [0:0]\\n-A INPUT -i lo -j ACCEPT\\n\\n-A INPUT -m state --state RELATED,ESTABLISHED'
            ' -j ACCEPT\\nCOMMIT\\n"\n')
    path = tmp_path / "user-data"
    path.write_text(text)
    lint(path, "--fix")
    capsys.readouterr()
    assert path.read_text() == text


@pytest.mark.parametrize("flag", ["--fix", "--diff"])
def test_fix_and_diff_on_a_clean_file_change_nothing(tmp_path, capsys, flag):
    path = tmp_path / "user-data"
    clean = "#cloud-config\nwrite_files:\n  - path: /etc/motd\n    permissions: '0644'\n    content: hi\n"
    path.write_text(clean)
    assert lint(path, flag) == 0
    assert path.read_text() == clean


# --------------------------------------------------------------------------- real files

_STATE = re.compile(r"(?<!\S)(?:-m|--match)\s+state\s+(!\s+)?--state\s+(\S+)(?!\S)")


def _as_conntrack(line: str) -> str:
    if line.lstrip().startswith("#"):
        return line  # a commented-out rule is not a rule
    return _STATE.sub(lambda m: f"-m conntrack {'! ' if m.group(1) else ''}--ctstate {m.group(2)}", line)


def test_fix_on_real_rules_files_changes_only_state_matches(shared_corpus, tmp_path, capsys):
    """Real iptables-save files with `-m state`: --fix rewrites exactly those matches,
    leaves every other line alone, lints clean of FW401, and a second run is a no-op."""
    found = sorted((p for p in (shared_corpus / "real").iterdir()
                    if p.is_file() and "-m state" in p.read_text(errors="replace")),
                   key=lambda p: p.stat().st_size)[:8]
    assert found, "the corpus has no file with -m state"
    originals = {}
    for p in found:
        (tmp_path / p.name).write_bytes(p.read_bytes())
        originals[p.name] = p.read_text(errors="replace")
    files = [str(tmp_path / name) for name in originals]
    lint("--fix", "--select", "FW401", *files)
    for name, before in originals.items():
        after = (tmp_path / name).read_text()
        assert after.splitlines() == [_as_conntrack(line) for line in before.splitlines()], name
        assert after != before, name
    capsys.readouterr()
    assert lint("--select", "FW401", *files) == 0
    assert lint("--diff", *files) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("first,fixed", [("# cloud-config", "#cloud-config"), ("#Cloud-Config  ", "#cloud-config"),
                                         ("write_files:", None)])
def test_fix_rewrites_a_misspelt_header_but_does_not_insert_one(tmp_path, capsys, first, fixed):
    rest = "  - path: /etc/motd\n    permissions: '0644'\n    content: hi\n"
    text = f"{first}\n" + ("write_files:\n" if first != "write_files:" else "") + rest
    path = tmp_path / "user-data"
    path.write_text(text)
    lint(path, "--fix")
    assert path.read_text() == (text.replace(first, fixed, 1) if fixed else text)
    capsys.readouterr()
    assert lint(path, "--select", "FW501") == (0 if fixed else 1)
