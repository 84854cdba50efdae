"""Reading any input file into a :class:`~fwc.document.Document`.

The kind is decided by name and content: ``*.fw`` is a policy; YAML that starts with
``#cloud-config``, or has a top-level ``write_files:`` or Butane ``variant:`` key, is a
provisioning file; anything else is an iptables-save / iptables-restore file. The
frontends are imported only when a file of their kind is read.
"""

from __future__ import annotations

import re
from pathlib import Path

from .diagnostics import FwcError
from .document import Document
from .source import SourceFile

_PROVISIONING = re.compile(r"^(?:write_files|variant)\s*:", re.MULTILINE)
# A rules file's own lines start at column 1; rules embedded in YAML are indented.
_RULES_START = re.compile(r"^(?:[*:]|-[AI]\s)", re.MULTILINE)


def read_source(path: str | Path) -> SourceFile:
    """Read a file as UTF-8 (bad bytes replaced); I/O problems are :class:`FwcError`."""
    p = Path(path)
    try:
        return SourceFile.read(p)
    except FileNotFoundError:
        raise FwcError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FwcError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise FwcError(f"{path}: permission denied") from None
    except OSError as exc:
        raise FwcError(f"{path}: cannot read: {exc.strerror or exc}") from None


def detect_kind(path: str, text: str) -> str:
    """``policy``, ``provisioning`` (cloud-config or Butane) or ``rules``."""
    if str(path).endswith(".fw"):
        return "policy"
    if text.lstrip("\ufeff").startswith("#cloud-config"):
        return "provisioning"
    # The rules-start search first: it stops at a rules file's first line, where the
    # provisioning search would read a whole large dump.
    if not _RULES_START.search(text) and _PROVISIONING.search(text):
        return "provisioning"
    if str(path).endswith((".bu", ".yaml", ".yml")) and not _RULES_START.search(text):
        return "provisioning"
    if not _RULES_START.search(text) and _looks_provisioning(text, str(path)):
        return "provisioning"  # e.g. a user-data with only `coreos:` or a misspelt header
    return "rules"


def _looks_provisioning(text: str, path: str) -> bool:
    from .wrappers.provisioning import sniff_kind

    return sniff_kind(text, path) is not None


def load_document(path: str | Path, *, family: int | None = None,
                  text: str | None = None) -> Document:
    """Read ``path`` (or ``text`` named ``path``) with the frontend its kind needs."""
    path = str(path)
    source = SourceFile(path, text) if text is not None else read_source(path)
    kind = detect_kind(path, source.text)
    if kind == "policy":
        return _load_policy(source)
    if kind == "provisioning":
        return _load_provisioning(source)
    return _load_rules(source, family)


def _frontend(module: str, name: str, what: str):
    """A frontend function, imported on first use (a missing one is a clear error)."""
    import importlib

    try:
        return getattr(importlib.import_module(module, __package__), name)
    except ModuleNotFoundError as exc:
        if exc.name and module.lstrip(".") in exc.name:
            raise FwcError(f"reading {what} is not available in this fwc build ({exc})") from None
        raise


def _load_rules(source: SourceFile, family: int | None) -> Document:
    read_rules = _frontend(".parse.rules_save", "read_rules", "iptables-save files")

    read = read_rules(source.text, source.path, family=family)
    return Document(source.path, "rules", source, rulesets=(read.ruleset,),
                    diagnostics=tuple(read.diagnostics), comments=tuple(read.comments))


def _load_policy(source: SourceFile) -> Document:
    load_policy = _frontend(".parse.policy", "load_policy", "policies")

    result = load_policy(source.path, text=source.text)
    rulesets = tuple(result.rulesets[f] for f in sorted(result.rulesets))
    sources = dict(getattr(result, "sources", None) or {})
    sources.setdefault(source.path, source)
    return Document(source.path, "policy", source, rulesets=rulesets,
                    diagnostics=tuple(result.diagnostics), comments=tuple(result.comments),
                    sources=sources,
                    extra={"policy": result, "directives": getattr(result, "directives", {})})


def _load_provisioning(source: SourceFile) -> Document:
    read_provisioning = _frontend(".wrappers.provisioning", "read_provisioning",
                                  "provisioning files")

    return read_provisioning(source)
