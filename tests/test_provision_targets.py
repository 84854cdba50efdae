"""The ubuntu, flatcar and fcos targets: structure, schema, and the linter reading them back.

The system tests at the end run the real validators: ``cloud-init schema`` on every
cloud-config fwc emits (and on the seed's, which it must refuse), and ``nft -c -f`` on
every nftables output.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import need_root, need_tool
from fwc.cli import main
from fwc.load import load_document
from fwc.parse.policy import load_policy

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
COMPILE = HERE / "compile"
SCHEMAS = {"flatcar": DATA / "butane-flatcar-1.0.0.schema.json",
           "fcos": DATA / "butane-fcos-1.6.0.schema.json"}
VERSIONS = {"flatcar": "1.0.0", "fcos": "1.6.0"}


def goldens(name: str) -> list[Path]:
    found = sorted(COMPILE.glob(f"*/{name}"))
    assert found, f"no {name} goldens"
    return found


def compiled(policy: Path, *args: str, capsys) -> str:
    capsys.readouterr()
    assert main(["compile", str(policy), *args]) == 0
    return capsys.readouterr().out


def validate_butane(text: str) -> dict:
    data = yaml.safe_load(text)
    schema = json.loads(SCHEMAS[data["variant"]].read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    return data


# --------------------------------------------------------------------------- Butane


@pytest.mark.parametrize("path", goldens("flatcar.bu") + goldens("fcos.bu"),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_butane_goldens_follow_the_spec_schema(path):
    data = validate_butane(path.read_text())
    assert data["variant"] == path.stem
    assert data["version"] == VERSIONS[path.stem]
    for entry in data["storage"]["files"]:
        assert entry["mode"] == 0o644 and entry["overwrite"] is True


def test_the_schema_rejects_what_butane_would():
    good = yaml.safe_load((COMPILE / "seed-coreos" / "flatcar.bu").read_text())
    schema = json.loads(SCHEMAS["flatcar"].read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(good)
    quoted = json.loads(json.dumps(good))
    quoted["storage"]["files"][0]["mode"] = "0644"  # the cloud-config habit, wrong here
    unknown = json.loads(json.dumps(good))
    unknown["systemd"]["units"][0]["enable"] = True  # cloud-config's key, not Butane's
    other = dict(good, variant="fcos")
    for bad in (quoted, unknown, other):
        assert not validator.is_valid(bad)


@pytest.mark.parametrize("case", ["seed-coreos", "targets-mixed", "etcd-cluster"])
def test_flatcar_butane_reads_back_as_the_compiled_rulesets(case):
    policy = load_policy(str(COMPILE / case / "policy.fw"))
    doc = load_document(COMPILE / case / "flatcar.bu")
    assert doc.kind == "butane"
    assert not [d for d in doc.diagnostics if d.severity >= d.severity.ERROR]
    assert {r.family: r for r in doc.rulesets} == dict(policy.rulesets)
    # Spans of the embedded rules point at the Butane lines (a 10-column indent).
    lines = doc.source.text.splitlines()
    for ruleset in doc.rulesets:
        for _, _, rule in ruleset.rules():
            assert lines[rule.span.line - 1][rule.span.col - 1:].startswith("-A ")


def test_fcos_butane_embeds_exactly_the_nft_output(capsys):
    policy = COMPILE / "targets-mixed" / "policy.fw"
    nft = compiled(policy, "--emit", "nft", capsys=capsys)
    data = validate_butane(compiled(policy, "--target", "fcos", capsys=capsys))
    assert data["storage"]["files"] == [{"path": "/etc/sysconfig/nftables.conf",
                                         "overwrite": True, "mode": 0o644,
                                         "contents": {"inline": nft}}]
    assert data["systemd"] == {"units": [{"name": "nftables.service", "enabled": True}]}


@pytest.mark.parametrize("target", ["flatcar", "fcos"])
def test_butane_lints_clean_of_provisioning_findings(target, capsys):
    path = COMPILE / "targets-mixed" / f"{target}.bu"
    capsys.readouterr()
    assert main(["lint", str(path), "--format", "concise"]) == 0
    assert " FW5" not in capsys.readouterr().out


def test_merged_butane_still_follows_the_schema(tmp_path):
    user = tmp_path / "config.bu"
    shutil.copy(DATA / "merge" / "butane-user.bu", user)
    assert main(["compile", str(DATA / "merge" / "etcd.fw"), "--target", "flatcar",
                 "--merge", str(user), "-o", str(user)]) == 0
    validate_butane(user.read_text())


# --------------------------------------------------------------------------- Ubuntu


def test_ubuntu_cloud_config_shape(capsys):
    policy = COMPILE / "targets-mixed" / "policy.fw"
    text = compiled(policy, "--target", "ubuntu", capsys=capsys)
    assert text.splitlines()[0] == "#cloud-config"
    data = yaml.safe_load(text)
    assert data["packages"] == ["iptables-persistent"]
    assert data["runcmd"] == [["netfilter-persistent", "reload"]]
    v4 = compiled(policy, "--emit", "iptables", capsys=capsys)
    v6 = compiled(policy, "--emit", "ip6tables", capsys=capsys)
    assert data["write_files"] == [
        {"path": "/etc/iptables/rules.v4", "permissions": "0644", "owner": "root:root",
         "defer": True, "content": v4},
        {"path": "/etc/iptables/rules.v6", "permissions": "0644", "owner": "root:root",
         "defer": True, "content": v6},
    ]
    assert "permissions: '0644'" in text


def test_ubuntu_cloud_config_lints_clean_of_provisioning_findings(capsys):
    capsys.readouterr()
    path = COMPILE / "targets-mixed" / "ubuntu.user-data"
    assert main(["lint", str(path), "--format", "concise"]) == 0
    assert " FW5" not in capsys.readouterr().out
    doc = load_document(path)
    assert doc.kind == "cloud-config" and sorted(r.family for r in doc.rulesets) == [4, 6]


# --------------------------------------------------------------------------- system


def every_cloud_config(tmp_path) -> list[Path]:
    """Every cloud-config fwc emits here: the goldens of both cloud-config targets and the
    results of merging into the users' files."""
    found = goldens("user-data") + goldens("ubuntu.user-data")
    etcd = tmp_path / "etcd-user-data"
    shutil.copy(DATA / "etcd" / "user-data", etcd)
    ubuntu = tmp_path / "ubuntu-user-data"
    shutil.copy(DATA / "merge" / "ubuntu-user.yaml", ubuntu)
    for path, args in ((etcd, []), (ubuntu, ["--target", "ubuntu"])):
        assert main(["compile", str(DATA / "merge" / "etcd.fw"), *args, "--merge", str(path),
                     "-o", str(path)]) == 0
        found.append(path)
    return found


@pytest.mark.system
def test_cloud_init_accepts_every_cloud_config_fwc_emits(tmp_path):
    need_tool("cloud-init")
    paths = every_cloud_config(tmp_path)
    assert len(paths) >= 8
    for path in paths:
        done = subprocess.run(["cloud-init", "schema", "--config-file", str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{path}:\n{done.stdout}{done.stderr}"
        assert "Valid cloud-config" in done.stdout


@pytest.mark.system
def test_cloud_init_refuses_the_seeds_unquoted_permissions(capsys):
    need_tool("cloud-init")
    seed = DATA / "seed" / "digitalocean" / "user-data"
    done = subprocess.run(["cloud-init", "schema", "--config-file", str(seed)],
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "write_files.0.permissions: 420 is not of type 'string'" in done.stdout + done.stderr
    capsys.readouterr()
    main(["lint", str(seed), "--format", "concise"])
    assert f"{seed}:9:18: FW502" in capsys.readouterr().out


@pytest.mark.system
def test_nft_accepts_every_nftables_output(tmp_path):
    need_root()
    need_tool("nft", "unshare")
    texts = [p.read_text() for p in goldens("nftables.nft")]
    texts += [yaml.safe_load(p.read_text())["storage"]["files"][0]["contents"]["inline"]
              for p in goldens("fcos.bu")]
    for i, text in enumerate(texts):
        path = tmp_path / f"{i}.nft"
        path.write_text(text)
        # Twice in one file: loading over an existing table fwc must work (a reload).
        done = subprocess.run(["unshare", "-n", "sh", "-c", f"nft -f {path} && nft -f {path} "
                               "&& nft list table inet fwc >/dev/null"],
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{done.stderr}\n{text}"
