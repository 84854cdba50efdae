"""The real pre-commit tool, in a scratch git repository, using this repository's hooks.

pre-commit clones this repository at HEAD and installs fwc into its own virtualenv
(`language: python`). So that works offline (CI may have no network), the virtualenv
sees the packages already installed (VIRTUALENV_SYSTEM_SITE_PACKAGES) and pip neither
looks at an index nor builds in isolation; fwc itself is still installed from the clone.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, need, need_tool

REDIS_OPEN = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m conntrack --ctstate INVALID -j DROP
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 6379 -j ACCEPT
COMMIT
"""
REDIS_PRIVATE = REDIS_OPEN.replace("-A INPUT -p tcp --dport 6379", "-A INPUT -s 10.0.0.0/8 -p tcp --dport 6379")

POLICY = """policy input drop
policy forward drop
policy output accept
allow loopback
allow established
drop invalid
allow icmp essential
allow tcp 22
"""

CONFIG = """fail-on = "error"

[[outputs]]
policy = "web.fw"
path = "user-data"
"""


@pytest.fixture(scope="module")
def hooks_env(tmp_path_factory):
    need_tool("git")
    need(shutil.which("pre-commit") is not None or _has_module("pre_commit"), "pre-commit is not installed")
    need((ROOT / ".git").exists(), f"{ROOT} is not a git checkout (pre-commit needs a commit to clone)")
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                         check=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")),
               VIRTUALENV_SYSTEM_SITE_PACKAGES="1", PIP_NO_INDEX="1",
               # pip reads a false value of this variable as "do not isolate builds".
               PIP_NO_BUILD_ISOLATION="0",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
               NO_COLOR="1", PRE_COMMIT_COLOR="never")
    env.pop("CI", None)  # --format auto must not pick a CI-specific format
    env.pop("GITHUB_ACTIONS", None)
    return rev, env


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


class Repo:
    def __init__(self, path: Path, env: dict[str, str]):
        self.path, self.env = path, env

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(list(argv), cwd=self.path, env=self.env, capture_output=True, text=True,
                              timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"{argv} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def write(self, name: str, text: str) -> None:
        (self.path / name).write_text(text)

    def commit(self, *files: str) -> subprocess.CompletedProcess:
        """`git commit` with the hooks installed; the result says whether they let it."""
        self.run("git", "add", *files)
        return self.run("git", "commit", "-q", "-m", "change", check=False)


@pytest.fixture
def repo(tmp_path, hooks_env) -> Repo:
    rev, env = hooks_env
    r = Repo(tmp_path, env)
    r.run("git", "init", "-q")
    r.write(".pre-commit-config.yaml",
            f"repos:\n  - repo: {ROOT}\n    rev: {rev}\n    hooks:\n"
            "      - id: fwc-lint\n      - id: fwc-compile-check\n")
    r.write(".fwc.toml", CONFIG.split("[[outputs]]")[0])
    r.run(sys.executable, "-m", "pre_commit", "install")
    return r


def test_open_redis_port_fails_the_commit_and_the_fix_passes(repo):
    repo.write("rules.v4", REDIS_OPEN)
    refused = repo.commit(".pre-commit-config.yaml", ".fwc.toml", "rules.v4")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "fwc lint" in output and "Failed" in output
    assert re.search(r"^rules\.v4:9:\d+: FW301 ", output, re.MULTILINE), output
    assert repo.run("git", "log", "--oneline", check=False).returncode != 0  # nothing committed

    repo.write("rules.v4", REDIS_PRIVATE)
    accepted = repo.commit("rules.v4")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "FW301" not in accepted.stdout + accepted.stderr


def test_policy_edited_without_recompiling_fails_compile_check(repo):
    repo.write(".fwc.toml", CONFIG)
    repo.write("web.fw", POLICY)
    repo.run("fwc", "compile", "web.fw", "-o", "user-data")
    first = repo.commit(".pre-commit-config.yaml", ".fwc.toml", "web.fw", "user-data")
    assert first.returncode == 0, first.stdout + first.stderr

    repo.write("web.fw", POLICY + "allow tcp 8080\n")
    stale = repo.commit("web.fw")
    output = stale.stdout + stale.stderr
    assert stale.returncode != 0, output
    assert "fwc compiled outputs are up to date" in output and "Failed" in output
    assert "would recompile: user-data" in output
    assert "--dport 8080" in output and "\n+" in output  # the diff shows the new rule

    repo.run("fwc", "compile", "web.fw", "-o", "user-data")
    fresh = repo.commit("web.fw", "user-data")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
