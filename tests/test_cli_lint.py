"""``fwc lint``, ``fwc rules`` and ``fwc rule`` end to end, in-process."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest

from fwc.cli import main

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

CLEAN = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
"""
# FW902 (error) on line 5, FW900 (warning) at line 7 column 15.
BROKEN = """\
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
# fwc: ignore FW302
-A INPUT -p tcp --dport 22 -j ACCEPT
# fwc: ignore=FW901
-A INPUT -p tcp --dport 80 -j ACCEPT
COMMIT
"""
ONLY_SUPPRESSIONS = ["--select", "FW9"]


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch, tmp_path):
    for var in ("FORCE_COLOR", "NO_COLOR", "GITHUB_ACTIONS", "TTY_COMPATIBLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no config of the checkout applies


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _lint(capsys, *argv):
    code = main(["lint", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_file_exits_0(tmp_path, capsys):
    code, out, err = _lint(capsys, _write(tmp_path, "rules.v4", CLEAN), *ONLY_SUPPRESSIONS,
                           "--format", "concise")
    assert (code, out, err) == (0, "", "")


def test_findings_exit_1_and_concise_lines(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN)
    code, out, _ = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "concise")
    assert code == 1
    assert out.splitlines() == [
        f"{path}:5:1: FW902 [error] malformed directive: expected `fwc: ignore=CODE[,CODE...]` "
        "or `fwc: ignore-file=CODE[,CODE...]`",
        f"{path}:7:15: FW900 [warning] unused suppression: FW901 reports nothing here",
    ]


@pytest.mark.parametrize("fail_on, expected", [("error", 1), ("warning", 1), ("info", 1)])
def test_fail_on_levels(tmp_path, capsys, fail_on, expected):
    path = _write(tmp_path, "rules.v4", BROKEN)
    assert _lint(capsys, path, *ONLY_SUPPRESSIONS, "--fail-on", fail_on)[0] == expected


def test_warning_below_fail_on_error_exits_0(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN.replace("# fwc: ignore FW302\n", ""))
    assert _lint(capsys, path, *ONLY_SUPPRESSIONS, "--fail-on", "error")[0] == 0
    assert _lint(capsys, path, *ONLY_SUPPRESSIONS)[0] == 1


def test_missing_file_exits_2_but_the_others_are_reported(tmp_path, capsys):
    good = _write(tmp_path, "rules.v4", BROKEN)
    code, out, err = _lint(capsys, str(tmp_path / "nope.rules"), good, *ONLY_SUPPRESSIONS,
                           "--format", "concise")
    assert code == 2
    assert "FW902" in out
    assert err == f"fwc: error: {tmp_path / 'nope.rules'}: no such file\n"


def test_directory_exits_2(tmp_path, capsys):
    code, _, err = _lint(capsys, str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_unknown_code_on_the_command_line_exits_2(tmp_path, capsys):
    code, _, err = _lint(capsys, _write(tmp_path, "rules.v4", CLEAN), "--ignore", "FW9O1")
    assert code == 2
    assert err.startswith("fwc: error: --ignore: 'FW9O1' is not a check code or prefix")


def test_bad_config_exits_2(tmp_path, capsys):
    _write(tmp_path, "proj/.fwc.toml", 'fail-on = "warn"\n')
    code, _, err = _lint(capsys, _write(tmp_path, "proj/rules.v4", CLEAN))
    assert code == 2
    assert "fail-on: unknown severity 'warn'" in err and "did you mean 'warning'?" in err


def test_config_found_next_to_the_file(tmp_path, capsys):
    _write(tmp_path, "proj/pyproject.toml", '[tool.fwc]\nignore = ["FW902"]\nfail-on = "error"\n')
    path = _write(tmp_path, "proj/etc/rules.v4", BROKEN)
    code, out, _ = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "concise")
    assert code == 0  # the FW900 warning is below the config's fail-on
    assert "FW902" not in out and "FW900" in out
    # --fail-on on the command line wins over the config.
    assert _lint(capsys, path, *ONLY_SUPPRESSIONS, "--fail-on", "warning")[0] == 1


def test_explicit_config(tmp_path, capsys):
    cfg = _write(tmp_path, "elsewhere.toml", 'ignore = ["FW900", "FW902"]\n')
    path = _write(tmp_path, "rules.v4", BROKEN)
    assert _lint(capsys, path, *ONLY_SUPPRESSIONS, "--config", cfg)[0] == 0
    code, _, err = _lint(capsys, path, "--config", str(tmp_path / "missing.toml"))
    assert code == 2 and "config file not found" in err


def test_json_is_sorted_and_deterministic_over_many_files(tmp_path, capsys):
    paths = [_write(tmp_path, f"f{i}/rules.v4", BROKEN) for i in (2, 1, 3)]
    code, out, _ = _lint(capsys, *paths, *ONLY_SUPPRESSIONS, "--format", "json")
    assert code == 1
    data = json.loads(out)
    keys = [(d["path"], d["line"], d["column"], d["code"]) for d in data["diagnostics"]]
    assert keys == sorted(keys) and len(keys) == 6
    assert _lint(capsys, *reversed(paths), *ONLY_SUPPRESSIONS, "--format", "json")[1] == out


def test_github_format(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN)
    out = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "github")[1]
    assert out.splitlines()[1] == (
        f"::warning file={path},line=7,col=15,endLine=7,endColumn=20,"
        "title=FW900 unused-suppression::unused suppression: FW901 reports nothing here"
        "%0Ahelp: remove FW901 from the directive")


def test_auto_is_github_under_actions(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = _lint(capsys, _write(tmp_path, "rules.v4", BROKEN), *ONLY_SUPPRESSIONS)[1]
    assert out.startswith("::error file=")


def test_auto_is_concise_when_not_a_terminal(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN)
    assert _lint(capsys, path, *ONLY_SUPPRESSIONS)[1].startswith(f"{path}:5:1: FW902 [error]")


def test_sarif_output_validates(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN)
    out = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "sarif")[1]
    log = json.loads(out)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft4Validator)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["FW902", "FW900"]


def test_text_format_shows_the_line_and_caret(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN)
    out = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "text")[1]
    lines = out.splitlines()
    i = lines.index(f"{path}:7:15: FW900 [warning] unused suppression: FW901 reports nothing here")
    assert lines[i + 1:i + 5] == [
        "  7 | # fwc: ignore=FW901",
        "    |               ^^^^^",
        "  help: remove FW901 from the directive",
        "  see: fwc rule FW900 (unused-suppression)",
    ]
    assert lines[-1] == "Found 2 problems (1 error, 1 warning) in 1 file."


def test_text_honours_no_color(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, "rules.v4", BROKEN)
    monkeypatch.setenv("FORCE_COLOR", "1")
    coloured = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "text")[1]
    assert "\x1b[" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "text")[1]
    assert "31m" not in plain and "33m" not in plain


def test_output_file(tmp_path, capsys):
    path = _write(tmp_path, "rules.v4", BROKEN)
    report = tmp_path / "out.json"
    code, out, _ = _lint(capsys, path, *ONLY_SUPPRESSIONS, "--format", "json", "--output", str(report))
    assert code == 1 and out == ""
    assert len(json.loads(report.read_text())["diagnostics"]) == 2


def test_stdin(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(BROKEN))
    code, out, _ = _lint(capsys, "-", *ONLY_SUPPRESSIONS, "--format", "concise")
    assert code == 1 and out.startswith("<stdin>:5:1: FW902")


def test_many_files_in_one_process_with_a_progress_bar_on_a_terminal(tmp_path, capsys, monkeypatch):
    paths = [_write(tmp_path, f"host{i:02}/rules.v4", BROKEN if i % 5 == 0 else CLEAN)
             for i in range(25)]
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats the streams as a terminal
    code, out, err = _lint(capsys, *paths, *ONLY_SUPPRESSIONS, "--format", "text")
    assert code == 1
    assert "Linting" in err
    assert "Found 10 problems (5 errors, 5 warnings) in 25 files." in out.splitlines()[-1]
    code, out, err = _lint(capsys, *paths, *ONLY_SUPPRESSIONS, "--format", "json")
    assert "Linting" not in err and err == ""
    assert len(json.loads(out)["diagnostics"]) == 10
    monkeypatch.delenv("FORCE_COLOR")
    assert "Linting" not in _lint(capsys, *paths, *ONLY_SUPPRESSIONS, "--format", "text")[2]


def test_rules_table_lists_every_check(capsys):
    from fwc.checks.base import load_checks

    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    codes = [line.split()[0] for line in out.splitlines()]
    assert codes == list(load_checks())
    assert [l for l in out.splitlines() if l.startswith("FW900")][0].split()[:4] == [
        "FW900", "unused-suppression", "warning", "on"]


def test_rules_json(capsys):
    assert main(["rules", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"code": "FW901", "name": "unknown-code", "severity": "error", "default": "on",
            "summary": "An ignore directive names a code that does not exist."} in rows


@pytest.mark.parametrize("query", ["FW902", "fw902", "malformed-directive"])
def test_rule_page(capsys, query):
    assert main(["rule", query]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# malformed-directive (FW902)\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in out


def test_unknown_rule_exits_2_with_did_you_mean(capsys):
    assert main(["rule", "FW9021"]) == 2
    assert capsys.readouterr().err == "fwc: error: unknown check 'FW9021' (did you mean FW902?)\n"


def test_a_reader_crash_is_an_error_for_that_file_not_a_traceback(tmp_path, capsys, monkeypatch):
    from fwc import load

    def broken_reader(source, family):
        raise IndexError("list index out of range")

    monkeypatch.setattr(load, "_load_rules", broken_reader)
    path = _write(tmp_path, "rules.v4", CLEAN)
    code, out, err = _lint(capsys, path, "--format", "concise")
    assert code == 2 and out == ""
    assert err == (f"fwc: error: {path}: internal error while reading "
                   "(IndexError: list index out of range); this is a bug in fwc\n")


def test_config_settings_reach_the_checks(tmp_path, capsys):
    policy = _write(tmp_path, "proj/p.fw",
                    "policy input drop\nallow in on lo\nallow established\nallow tcp 9000\n")
    assert _lint(capsys, policy, "--select", "FW301")[0] == 0
    _write(tmp_path, "proj/.fwc.toml", 'sensitive-ports = { 9000 = "MinIO" }\n')
    code, out, _ = _lint(capsys, policy, "--select", "FW301", "--format", "concise")
    assert code == 1
    lines = out.splitlines()
    assert [line.split(" [")[0] for line in lines] == [f"{policy}:4:1: FW301"] * 2
    assert all("MinIO" in line for line in lines)  # the configured service name
