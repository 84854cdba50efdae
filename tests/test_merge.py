"""``fwc compile --merge``: fwc's entries replaced, everything else kept byte for byte."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml

from fwc.cli import main
from fwc.wrappers.merge import MergeRefused, merge

DATA = Path(__file__).parent / "data"
ETCD_USER_DATA = DATA / "etcd" / "user-data"
SEED_USER_DATA = DATA / "seed" / "digitalocean" / "user-data"
MERGE = DATA / "merge"


def compile_to(tmp_path, policy: Path, *args: str) -> tuple[int, str]:
    out = tmp_path / "compiled"
    code = main(["compile", str(policy), "-o", str(out), *args])
    return code, out.read_text() if out.exists() else ""


def merge_cli(tmp_path, policy: Path, user_data: Path, *args: str) -> int:
    return main(["compile", str(policy), "--merge", str(user_data), "-o", str(user_data), *args])


def only_insertions(before: str, after: str) -> list[str]:
    """The inserted lines, after checking every line of ``before`` is still there, in
    order, unchanged."""
    inserted = []
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(),
                                      autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        assert op in ("equal", "insert"), (op, before.splitlines()[a1:a2])
        if op == "insert":
            inserted += after.splitlines()[b1:b2]
    return inserted


@pytest.fixture
def etcd(tmp_path) -> Path:
    path = tmp_path / "user-data"
    shutil.copy(ETCD_USER_DATA, path)
    return path


def test_merge_into_the_seed_etcd_config_only_adds_fwc_entries(tmp_path, etcd):
    before = etcd.read_text()
    assert merge_cli(tmp_path, MERGE / "etcd.fw", etcd) == 0
    after = etcd.read_text()
    inserted = only_insertions(before, after)
    # The units fwc needs join the user's units list after fleet.service, the files
    # become a new top-level write_files at the end.
    assert inserted[:6] == ["    - name: iptables-restore.service", "      enable: true",
                            "      command: start", "    - name: ip6tables-restore.service",
                            "      enable: true", "      command: start"]
    assert inserted[6:8] == ["write_files:", "  - path: /var/lib/iptables/rules-save"]
    assert after.startswith(before.rstrip("\n") + "\n    - name: iptables-restore.service\n")
    data, compiled = yaml.safe_load(after), yaml.safe_load(compile_to(tmp_path, MERGE / "etcd.fw")[1])
    units = data["coreos"]["units"]
    assert [u["name"] for u in units] == ["etcd.service", "fleet.service",
                                          "iptables-restore.service", "ip6tables-restore.service"]
    assert units[2:] == compiled["coreos"]["units"]
    assert data["write_files"] == compiled["write_files"]
    assert data["coreos"]["fleet"] == {"etcd-servers": "http://$private_ipv4:2379",
                                       "public-ip": "$private_ipv4"}


def test_merging_twice_is_a_no_op(tmp_path, etcd):
    assert merge_cli(tmp_path, MERGE / "etcd.fw", etcd) == 0
    once = etcd.read_bytes()
    stamp = etcd.stat().st_mtime_ns
    assert merge_cli(tmp_path, MERGE / "etcd.fw", etcd) == 0
    assert etcd.read_bytes() == once
    assert etcd.stat().st_mtime_ns == stamp  # not even rewritten
    assert merge_cli(tmp_path, MERGE / "etcd.fw", etcd, "--check") == 0


def test_a_changed_policy_replaces_fwc_entries_and_drops_the_stale_ipv6_ones(tmp_path, etcd):
    original = etcd.read_text()
    assert merge_cli(tmp_path, MERGE / "etcd.fw", etcd) == 0
    assert merge_cli(tmp_path, MERGE / "etcd-v4only.fw", etcd) == 0
    after = etcd.read_text()
    inserted = only_insertions(original, after)
    assert "ip6tables" not in after
    data = yaml.safe_load(after)
    assert [u["name"] for u in data["coreos"]["units"]][-1] == "iptables-restore.service"
    rules = data["write_files"][0]["content"]
    assert "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" in rules
    assert "2379" not in rules
    assert inserted[0] == "    - name: iptables-restore.service"


def test_check_reports_a_stale_merge_target(tmp_path, etcd, capsys):
    assert merge_cli(tmp_path, MERGE / "etcd.fw", etcd) == 0
    before = etcd.read_bytes()
    assert merge_cli(tmp_path, MERGE / "etcd-v4only.fw", etcd, "--check") == 1
    assert etcd.read_bytes() == before
    assert "is stale" in capsys.readouterr().err


def test_a_hand_written_rules_save_entry_is_refused_untouched(tmp_path, capsys):
    user_data = tmp_path / "user-data"
    shutil.copy(SEED_USER_DATA, user_data)
    before = user_data.read_bytes()
    assert merge_cli(tmp_path, MERGE / "etcd.fw", user_data) == 2
    assert user_data.read_bytes() == before
    err = capsys.readouterr().err
    assert (f"{user_data}:8: the entry for /var/lib/iptables/rules-save was not written by "
            "fwc") in err
    assert "refusing to replace it" in err


def test_a_unit_with_its_own_content_is_refused(tmp_path):
    text = ("#cloud-config\ncoreos:\n  units:\n    - name: iptables-restore.service\n"
            "      command: start\n      content: |\n        [Service]\n"
            "        ExecStart=/sbin/iptables-restore /etc/my-rules\n")
    with pytest.raises(MergeRefused, match=r"x:4: the unit iptables-restore.service has its "
                                           r"own content"):
        merge(text, compile_to(tmp_path, MERGE / "etcd.fw")[1], target="coreos", path="x")


def test_a_plain_enable_unit_is_taken_over_in_place(tmp_path):
    text = ("#cloud-config\ncoreos:\n  units:\n  - name: iptables-restore.service\n"
            "    enable: true\n  - name: docker.service\n    command: start\n")
    merged = merge(text, compile_to(tmp_path, MERGE / "etcd-v4only.fw")[1], target="coreos",
                   path="x")
    assert merged.splitlines()[:8] == [
        "#cloud-config", "coreos:", "  units:", "  - name: iptables-restore.service",
        "    enable: true", "    command: start", "  - name: docker.service",
        "    command: start"]


def test_ubuntu_merge_adds_package_files_and_command_to_the_users_lists(tmp_path):
    user = tmp_path / "user-data"
    shutil.copy(MERGE / "ubuntu-user.yaml", user)
    before = user.read_text()
    assert merge_cli(tmp_path, MERGE / "etcd.fw", user, "--target", "ubuntu") == 0
    after = user.read_text()
    inserted = only_insertions(before, after)
    assert inserted[0] == "  - iptables-persistent"
    assert inserted[1] == "- path: /etc/iptables/rules.v4"  # the user's own list indentation
    assert inserted[-1] == "  - [netfilter-persistent, reload]"
    data = yaml.safe_load(after)
    assert data["packages"] == ["nginx", ["curl", "latest"], "iptables-persistent"]
    assert [f["path"] for f in data["write_files"]] == [
        "/etc/nginx/conf.d/status.conf", "/etc/iptables/rules.v4", "/etc/iptables/rules.v6"]
    assert all(f.get("defer") for f in data["write_files"][1:])
    assert merge_cli(tmp_path, MERGE / "etcd.fw", user, "--target", "ubuntu") == 0
    assert user.read_text() == after


def test_flatcar_merge_keeps_the_users_butane(tmp_path):
    user = tmp_path / "config.bu"
    shutil.copy(MERGE / "butane-user.bu", user)
    before = user.read_text()
    assert merge_cli(tmp_path, MERGE / "etcd.fw", user, "--target", "flatcar") == 0
    after = user.read_text()
    only_insertions(before, after)
    data = yaml.safe_load(after)
    assert data["version"] == "1.1.0"  # the user's newer spec version is kept
    assert [f["path"] for f in data["storage"]["files"]] == [
        "/etc/motd", "/var/lib/iptables/rules-save", "/var/lib/ip6tables/rules-save"]
    assert [u["name"] for u in data["systemd"]["units"]] == [
        "docker.service", "iptables-restore.service", "ip6tables-restore.service"]
    assert merge_cli(tmp_path, MERGE / "etcd.fw", user, "--target", "flatcar") == 0
    assert user.read_text() == after


def test_fcos_merge_into_an_empty_butane_adds_storage_and_systemd(tmp_path):
    text = "variant: fcos\nversion: 1.5.0\n# nothing else yet\n"
    compiled = compile_to(tmp_path, MERGE / "etcd.fw", "--target", "fcos")[1]
    merged = merge(text, compiled, target="fcos", path="x")
    assert merged.startswith(text + "storage:\n  files:\n    - path: /etc/sysconfig/nftables.conf\n")
    assert yaml.safe_load(merged)["systemd"] == {"units": [{"name": "nftables.service",
                                                            "enabled": True}]}


@pytest.mark.parametrize("text, message", [
    ("variant: fcos\nversion: 1.6.0\n", "is a Butane file (variant: fcos)"),
    ("coreos:\n  units: []\n", "x:1:1: the first line is not exactly `#cloud-config`"),
    ("#cloud-config\nwrite_files: [{path: /etc/x, content: y}]\n",
     "x:2: `write_files` is a flow list"),
    ("#cloud-config\n- a\n", "its top level is not a block mapping"),
    ("#cloud-config\nwrite_files:\n  - path: /var/lib/iptables/rules-save\n"
     "    content: '# Generated by fwc from a.fw\\n'\n"
     "  - path: /var/lib/iptables/rules-save\n    content: '# Generated by fwc'\n",
     "x:5: /var/lib/iptables/rules-save is listed twice (also on line 3)"),
    ("#cloud-config\nwrite_files:\n  - path: [\n", "x:4:1: not valid YAML"),
])
def test_files_fwc_cannot_merge_are_refused(tmp_path, text, message):
    compiled = compile_to(tmp_path, MERGE / "etcd.fw")[1]
    with pytest.raises(MergeRefused) as err:
        merge(text, compiled, target="coreos", path="x")
    assert message in str(err.value)


def test_alias_bombs_are_refused_before_loading(tmp_path):
    lines = ["#cloud-config", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    compiled = compile_to(tmp_path, MERGE / "etcd.fw")[1]
    with pytest.raises(MergeRefused, match="too many YAML aliases"):
        merge("\n".join(lines) + "\n", compiled, target="coreos", path="x")


def test_merge_with_an_emitter_or_a_missing_file_is_a_usage_error(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["compile", str(MERGE / "etcd.fw"), "--merge", str(missing)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["compile", str(MERGE / "etcd.fw"), "--emit", "nft", "--merge",
                 str(ETCD_USER_DATA)]) == 2
    assert "--emit nft is not one" in capsys.readouterr().err


def test_merge_to_stdout_leaves_the_file_alone(tmp_path, etcd, capsys):
    before = etcd.read_bytes()
    assert main(["compile", str(MERGE / "etcd.fw"), "--merge", str(etcd)]) == 0
    assert etcd.read_bytes() == before
    assert capsys.readouterr().out.startswith(before.decode())


def test_windows_line_endings_are_kept(tmp_path):
    text = ETCD_USER_DATA.read_text().replace("\n", "\r\n")
    merged = merge(text, compile_to(tmp_path, MERGE / "etcd.fw")[1], target="coreos", path="x")
    assert merged.startswith(text)
    assert "\n" not in merged.replace("\r\n", "")
    assert merge(merged, compile_to(tmp_path, MERGE / "etcd.fw")[1], target="coreos",
                 path="x") == merged
