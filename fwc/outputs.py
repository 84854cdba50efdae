"""Declared outputs: which policy compiles to which committed file, and how.

A project declares them in its config (``.fwc.toml``, or ``[tool.fwc]`` in
``pyproject.toml``), paths relative to the config file::

    [[outputs]]
    policy = "hosts/web.fw"
    path = "hosts/web/user-data"
    emit = "cloud-config"      # optional: what `fwc compile --emit` would produce
    target = "coreos"          # optional: `fwc compile --target`

or in the policy itself, in header comments before its first statement::

    # fwc: output user-data target=coreos
    # fwc: output rules.v4 emit=iptables

which the policy front end returns in ``PolicyResult.directives["outputs"]`` (entries
with ``path`` and optional ``emit``/``target``; a path is relative to the policy). ``fwc check-outputs`` compiles
every declared output and compares it with the file on disk, so a pre-commit hook needs
no arguments.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .config import _read_toml, find_config
from .diagnostics import FwcError

_ENTRY_KEYS = ("policy", "path", "emit", "target")


@dataclass(frozen=True)
class Output:
    policy: Path
    path: Path
    emit: str | None = None
    target: str | None = None
    declared_in: str = ""  # "the config file X" or "the policy's header"

    def command(self) -> str:
        parts = ["fwc compile", _rel(self.policy)]
        if self.emit:
            parts += ["--emit", self.emit]
        if self.target:
            parts += ["--target", self.target]
        parts += ["-o", _rel(self.path)]
        return " ".join(parts)


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- config


def config_outputs(config_path: Path | None) -> list[Output]:
    """The ``outputs`` entries of a config file (validated; problems are FwcError)."""
    if config_path is None:
        return []
    data = _read_toml(config_path)
    table = data.get("tool", {}).get("fwc", {}) if config_path.name == "pyproject.toml" else data
    entries = table.get("outputs", [])
    where = f"{config_path}: {'[tool.fwc] ' if config_path.name == 'pyproject.toml' else ''}outputs"
    if not isinstance(entries, list):
        raise FwcError(f"{where}: must be an array of tables ([[outputs]])")
    base = config_path.parent
    return [_config_entry(entry, base, f"{where}[{i}]", config_path) for i, entry in enumerate(entries)]


def _config_entry(entry: Any, base: Path, where: str, config_path: Path) -> Output:
    if not isinstance(entry, dict):
        raise FwcError(f"{where}: must be a table with policy and path")
    unknown = [k for k in entry if k not in _ENTRY_KEYS]
    if unknown:
        raise FwcError(f"{where}: unknown key {unknown[0]!r} (use {', '.join(_ENTRY_KEYS)})")
    for key in ("policy", "path"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise FwcError(f"{where}: {key} must be a non-empty string")
    for key in ("emit", "target"):
        if key in entry and not isinstance(entry[key], str):
            raise FwcError(f"{where}: {key} must be a string")
    return Output(base / entry["policy"], base / entry["path"], entry.get("emit"), entry.get("target"),
                  f"the config file {config_path}")


# --------------------------------------------------------------------------- policies


def directive_outputs(policy: Path, directives: Any) -> list[Output]:
    """Outputs a policy declares in its header (``directives["outputs"]``)."""
    if not directives:
        return []
    raw = directives.get("outputs") if hasattr(directives, "get") else None
    if raw is None:
        raw = directives.get("output") if hasattr(directives, "get") else None
    if raw is None:
        return []
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [o for o in (_directive_entry(policy, item) for item in items) if o is not None]


def _directive_entry(policy: Path, item: Any) -> Output | None:
    if isinstance(item, (str, Path)):
        path, emit, target = str(item), None, None
    elif isinstance(item, dict):
        path, emit, target = item.get("path"), item.get("emit"), item.get("target")
    else:
        path, emit, target = (getattr(item, "path", None), getattr(item, "emit", None),
                              getattr(item, "target", None))
    if not path:
        return None
    return Output(policy, policy.parent / str(path), emit, target, "the policy's header")


def candidate_policies(root: Path) -> list[Path]:
    """Policies under ``root``: the files git tracks (staged included), else a walk."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.fw"],
                                cwd=root, capture_output=True, text=True, check=True, timeout=30)
        return sorted(root / p for p in listed.stdout.split("\0") if p)
    except (OSError, subprocess.SubprocessError):
        return sorted(p for p in root.rglob("*.fw")
                      if not any(part.startswith(".") for part in p.relative_to(root).parts))


def declared_outputs(root: Path, policies: Iterable[Path] | None = None,
                     load=None) -> list[Output]:
    """Every output declared in the config found from ``root`` and in policy headers.

    ``load(path)`` returns a policy's front-end result (its ``directives`` are read);
    a policy that cannot be read is skipped here (checking its outputs reports it).
    """
    found = config_outputs(find_config(root))
    seen = {(o.policy.resolve(), o.path.resolve()) for o in found}
    for policy in policies if policies is not None else candidate_policies(root):
        try:
            directives = getattr(load(policy), "directives", None) if load else None
        except OSError:  # an unreadable policy declares nothing we can read
            continue
        for o in directive_outputs(policy, directives):
            key = (o.policy.resolve(), o.path.resolve())
            if key not in seen:
                seen.add(key)
                found.append(o)
    return found
