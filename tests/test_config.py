"""Configuration: discovery, validation (exit 2 with clear messages), selection rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwc.config import (DEFAULT_SENSITIVE_PORTS, Config, ConfigResolver, config_from_mapping,
                        find_config, glob_matches, load_config)
from fwc.diagnostics import FwcError, Severity
from enginekit import finding, registered


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_fwc_toml_found_by_walking_up(tmp_path):
    cfg = _write(tmp_path / ".fwc.toml", 'ignore = ["FW9"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == cfg.resolve()


def test_pyproject_without_tool_fwc_does_not_stop_the_walk(tmp_path):
    top = _write(tmp_path / "pyproject.toml", '[tool.fwc]\nfail-on = "error"\n')
    _write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config(tmp_path / "sub") == top.resolve()
    assert load_config(top).fail_on is Severity.ERROR


def test_fwc_toml_wins_over_pyproject_in_the_same_directory(tmp_path):
    _write(tmp_path / "pyproject.toml", '[tool.fwc]\nfail-on = "error"\n')
    own = _write(tmp_path / ".fwc.toml", 'fail-on = "info"\n')
    assert find_config(tmp_path) == own.resolve()


def test_resolver_uses_the_files_directory(tmp_path, monkeypatch):
    _write(tmp_path / "proj" / ".fwc.toml", 'fail-on = "info"\n')
    rules = _write(tmp_path / "proj" / "etc" / "rules.v4", "")
    monkeypatch.chdir(tmp_path)
    assert ConfigResolver().for_path(str(rules)).fail_on is Severity.INFO
    assert ConfigResolver().for_path(str(tmp_path / "other.rules")).fail_on is Severity.WARNING


@pytest.mark.parametrize("text, message", [
    ('selct = ["FW1"]\n', "unknown key 'selct' (did you mean 'select'?)"),
    ('fail_on = "error"\n', "did you mean 'fail-on'?"),
    ('select = ["FW999"]\n', "unknown code 'FW999'"),
    ('ignore = ["F301"]\n', "'F301' is not a check code or prefix"),
    ('fail-on = "warn"\n', "unknown severity 'warn' (use error, warning or info) (did you mean 'warning'?)"),
    ('[severity]\nFW9001 = "info"\n', "severity.FW9001: unknown code (did you mean 'FW901'?)"),
    ('[severity]\nFW900 = "loud"\n', "severity.FW900: unknown severity 'loud'"),
    ('management-ports = [22, 70000]\n', "management-ports: 70000 is not a port number"),
    ('sensitive-ports = "6379"\n', "sensitive-ports: expected a list of ports"),
    ('[per-file-ignores]\n"old/*" = ["FW9x"]\n', "'FW9X' is not a check code or prefix"),
    ('[options.FW900]\nwidth = 3\n', "FW900 has no option 'width'"),
    ('select = [\n', "invalid TOML"),
])
def test_invalid_config_is_a_clear_error(tmp_path, text, message):
    cfg = _write(tmp_path / ".fwc.toml", text)
    with pytest.raises(FwcError) as err:
        load_config(cfg)
    assert str(err.value).startswith(f"{cfg}: ")
    assert message in str(err.value)


def test_pyproject_errors_name_the_table(tmp_path):
    cfg = _write(tmp_path / "pyproject.toml", '[tool.fwc]\nignor = ["FW9"]\n')
    with pytest.raises(FwcError, match=r"\[tool\.fwc\] unknown key 'ignor' \(did you mean 'ignore'\?\)"):
        load_config(cfg)


def test_settings_reach_the_checks(tmp_path):
    cfg = config_from_mapping({"management-ports": [22, 2222],
                               "sensitive-ports": {"6379": "Redis", "9000": "MinIO"}})
    assert cfg.settings.management_ports == (22, 2222)
    assert cfg.settings.sensitive_ports == {6379: "Redis", 9000: "MinIO"}
    assert config_from_mapping({"sensitive-ports": [6379, 9000]}).settings.sensitive_ports == {
        6379: "Redis", 9000: "port 9000"}
    assert Config().settings.sensitive_ports == DEFAULT_SENSITIVE_PORTS


def test_check_options_validated_and_merged():
    with registered(("FW983", [])) as (cls,):
        cls.options = {"width": 8, "names": ["a"]}
        cfg = config_from_mapping({"options": {"FW983": {"width": 16}}})
        assert cfg.settings.options["FW983"] == {"width": 16, "names": ["a"]}
        with pytest.raises(FwcError, match="options.FW983.width: expected int, got str"):
            config_from_mapping({"options": {"FW983": {"width": "wide"}}})


def test_selection_most_specific_selector_wins():
    with registered(("FW983", []), ("FW984", [], Severity.INFO, False)):
        default = Config()
        assert default.is_enabled("FW983") and not default.is_enabled("FW984")
        assert Config(extend_select=("FW984",)).is_enabled("FW984")
        only = Config(select=("FW98",), ignore=("FW983",))
        assert not only.is_enabled("FW983") and only.is_enabled("FW984")
        assert not only.is_enabled("FW900")
        assert Config(select=("FW983",), ignore=("FW98",)).is_enabled("FW983")
        assert not Config(select=("ALL",), ignore=("FW98",)).is_enabled("FW983")
        assert Config(ignore=("ALL",)).is_enabled("FW001")  # syntax errors always reported


def test_per_file_ignores_and_severity_overrides(tmp_path):
    cfg = config_from_mapping({"per-file-ignores": {"legacy/**": ["FW90"], "*.v6": ["FW901"]},
                               "severity": {"FW900": "info"}}, path=tmp_path / ".fwc.toml")
    diags = [finding("FW900", 1, path=str(tmp_path / "legacy/x/rules.v4")),
             finding("FW901", 2, path=str(tmp_path / "a/rules.v6")),
             finding("FW900", 3, path=str(tmp_path / "rules.v4"), severity=Severity.WARNING)]
    kept = cfg.apply(diags)
    assert [(d.code, d.span.line, d.severity) for d in kept] == [("FW900", 3, Severity.INFO)]


@pytest.mark.parametrize("pattern, path, matches", [
    ("legacy/*.rules", "legacy/a.rules", True),
    ("legacy/*.rules", "legacy/x/a.rules", False),
    ("legacy/**/*.rules", "legacy/x/y/a.rules", True),
    ("legacy/**/*.rules", "legacy/a.rules", True),
    ("**/rules.v?", "etc/iptables/rules.v6", True),
    ("rules.v4", "etc/rules.v4", False),
])
def test_glob(pattern, path, matches):
    assert glob_matches(pattern, path) is matches


def test_command_line_overrides(tmp_path):
    base = config_from_mapping({"select": ["FW90"], "fail-on": "error"})
    over = base.with_overrides(select=["FW901"], ignore=["FW902"], fail_on="info")
    assert over.select == ("FW901",) and over.ignore == ("FW902",)
    assert over.fail_on is Severity.INFO
    with pytest.raises(FwcError, match="--ignore: unknown code 'FW999'"):
        base.with_overrides(ignore=["FW999"])
