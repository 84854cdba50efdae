"""Configuration: ``.fwc.toml`` or ``[tool.fwc]`` in ``pyproject.toml``.

The file is found by walking up from the linted file's directory (then from the current
directory); in one directory ``.fwc.toml`` wins over ``pyproject.toml``, and a
``pyproject.toml`` without a ``[tool.fwc]`` table does not stop the walk. Keys::

    select = ["FW1", "FW301"]        # codes or prefixes ("ALL" for every check)
    extend-select = ["FW405"]        # add to the default set
    ignore = ["FW303"]
    per-file-ignores = { "legacy/*.rules" = ["FW4"] }
    severity = { FW303 = "warning" }
    fail-on = "warning"              # error | warning | info
    management-ports = [22, 2222]
    sensitive-ports = [6379, 5432]   # or { 6379 = "Redis" }
    [options.FW303]                  # per-check options (see `fwc rule CODE`)

A code is enabled when its most specific matching selector is a select, not an ignore
(ruff's rule). FW001 (syntax errors) is always reported. Every problem in the file is a
:class:`FwcError` (exit 2) naming the file and key, with a did-you-mean where possible.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .checks.base import Settings, load_checks
from .diagnostics import Diagnostic, FwcError, Severity

CONFIG_NAMES = (".fwc.toml", "pyproject.toml")
ALWAYS_ON = frozenset({"FW001"})

# CHECKS.md's FW301 list; names are used in messages.
DEFAULT_SENSITIVE_PORTS: dict[int, str] = {
    23: "telnet", 111: "rpcbind", 139: "SMB", 445: "SMB", 3306: "MySQL",
    5432: "PostgreSQL", 6379: "Redis", 11211: "memcached", 27017: "MongoDB",
    9200: "Elasticsearch", 2375: "Docker API", 2376: "Docker API", 2379: "etcd",
    2380: "etcd", 10250: "kubelet", 6443: "Kubernetes API",
}
DEFAULT_MANAGEMENT_PORTS = (22,)

_KEYS = ("select", "extend-select", "ignore", "per-file-ignores", "severity", "fail-on",
         "management-ports", "sensitive-ports", "options",
         "outputs")  # declared compiled outputs: validated by fwc.outputs
_SELECTOR = re.compile(r"^(ALL|FW\d{0,3})$")


@dataclass(frozen=True)
class Config:
    """Validated configuration. ``root`` is the directory per-file-ignores are relative to."""

    path: Path | None = None
    root: Path = field(default_factory=Path.cwd)
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: Severity = Severity.WARNING
    settings: Settings = field(default_factory=lambda: default_settings())
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ selection
    def is_enabled(self, code: str) -> bool:
        return self.is_enabled_for(code, "")

    def is_enabled_for(self, code: str, path: str) -> bool:
        """Enabled, and not switched off for ``path`` by per-file-ignores (cached: this
        runs once per finding)."""
        key = (code, path)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._decide(code, path)
        return cached

    def _decide(self, code: str, path: str) -> bool:
        if not _enabled((self.select, self.extend_select, self.ignore), code):
            return False
        if code in ALWAYS_ON or not self.per_file_ignores or not path:
            return True
        return not any(code.startswith(sel) or sel == "ALL"
                       for sel in self._file_ignores(path))

    def _file_ignores(self, path: str) -> tuple[str, ...]:
        return _file_ignores(self.per_file_ignores, str(self.root), path)

    def apply(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """Drop what is not enabled for its file; apply severity overrides."""
        out = []
        for d in diagnostics:
            if not self.is_enabled_for(d.code, d.span.path):
                continue
            sev = self.severity.get(d.code)
            if sev is not None and sev != d.severity:
                d = _with_severity(d, sev)
            out.append(d)
        return out

    def with_overrides(self, *, select: Iterable[str] | None = None,
                       extend_select: Iterable[str] = (), ignore: Iterable[str] = (),
                       fail_on: str | None = None) -> "Config":
        """The command line's --select/--extend-select/--ignore/--fail-on on top."""
        codes = set(load_checks())
        sel = None if select is None else tuple(_selectors(list(select), "--select", codes))
        ext = tuple(_selectors(list(extend_select), "--extend-select", codes))
        ign = tuple(_selectors(list(ignore), "--ignore", codes))
        return Config(
            path=self.path, root=self.root,
            select=self.select if sel is None else sel,
            extend_select=self.extend_select + ext,
            ignore=self.ignore + ign,
            per_file_ignores=self.per_file_ignores, severity=self.severity,
            fail_on=self.fail_on if fail_on is None else _severity(fail_on, "--fail-on"),
            settings=self.settings,
        )


def default_settings() -> Settings:
    return Settings(management_ports=DEFAULT_MANAGEMENT_PORTS,
                    sensitive_ports=dict(DEFAULT_SENSITIVE_PORTS),
                    options=_default_options())


def _default_options() -> dict[str, dict[str, Any]]:
    return {code: dict(cls.options) for code, cls in load_checks().items() if cls.options}


def _with_severity(d: Diagnostic, sev: Severity) -> Diagnostic:
    return Diagnostic(d.code, sev, d.span, d.message, related=d.related, help=d.help,
                      fix=d.fix, witness=d.witness)


@functools.lru_cache(maxsize=4096)
def _enabled(key: tuple, code: str) -> bool:
    select, extend_select, ignore = key
    if code in ALWAYS_ON:
        return True
    if select is None:
        chosen = _longest(extend_select, code)
        if chosen < 0:
            cls = load_checks().get(code)
            chosen = 0 if (cls is None or cls.enabled_by_default) else -1
    else:
        chosen = _longest(select + extend_select, code)
    return chosen >= 0 and chosen > _longest(ignore, code)


def _longest(selectors: tuple[str, ...], code: str) -> int:
    """Length of the most specific selector matching ``code`` (-1 when none; ALL is 0)."""
    best = -1
    for sel in selectors:
        if sel == "ALL":
            best = max(best, 0)
        elif code.startswith(sel):
            best = max(best, len(sel))
    return best


@functools.lru_cache(maxsize=4096)
def _file_ignores(pfi: tuple, root: str, path: str) -> tuple[str, ...]:
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        rel = p.as_posix()
    found: list[str] = []
    for pattern, selectors in pfi:
        if glob_matches(pattern, rel) or ("/" not in pattern and glob_matches(pattern, p.name)):
            found.extend(selectors)
    return tuple(found)


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def glob_matches(pattern: str, path: str) -> bool:
    """Glob with ``*`` (within a directory), ``?`` and ``**`` (any directories)."""
    return _glob_regex(pattern).match(path) is not None


# ---------------------------------------------------------------------- discovery


def find_config(start: Path) -> Path | None:
    """The nearest config file in ``start`` or above it."""
    start = start.resolve()
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool_fwc(candidate)):
                return candidate
    return None


def _has_tool_fwc(pyproject: Path) -> bool:
    try:
        return "fwc" in _read_toml(pyproject).get("tool", {})
    except FwcError:
        return True  # report its syntax error rather than skip it silently


class ConfigResolver:
    """Finds (and caches) the config that applies to each linted file.

    With an explicit ``--config`` every file uses it; otherwise the walk starts at the
    file's directory, then at the current directory.
    """

    def __init__(self, explicit: str | Path | None = None):
        self._explicit = load_config(Path(explicit)) if explicit else None
        self._by_file: dict[Path, Config] = {}
        self._by_dir: dict[Path, Path | None] = {}

    def for_path(self, path: str | Path | None) -> Config:
        if self._explicit is not None:
            return self._explicit
        found = None
        if path is not None and str(path) != "-":
            found = self._find(Path(path).parent)
        if found is None:
            found = self._find(Path.cwd())
        if found is None:
            return self._default
        if found not in self._by_file:
            self._by_file[found] = load_config(found)
        return self._by_file[found]

    def _find(self, directory: Path) -> Path | None:
        key = directory.resolve()
        if key not in self._by_dir:
            self._by_dir[key] = find_config(key)
        return self._by_dir[key]

    @functools.cached_property
    def _default(self) -> Config:
        return Config()


# --------------------------------------------------------------------- validation


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise FwcError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise FwcError(f"{path}: cannot read config: {exc.strerror or exc}") from None


def load_config(path: Path) -> Config:
    """Read and validate a ``.fwc.toml`` or a ``pyproject.toml``'s ``[tool.fwc]``."""
    if not path.exists():
        raise FwcError(f"{path}: config file not found")
    data = _read_toml(path)
    if path.name == "pyproject.toml" or "tool" in data and "fwc" in data.get("tool", {}):
        table = data.get("tool", {}).get("fwc")
        if table is None:
            raise FwcError(f"{path}: no [tool.fwc] table")
        where = "[tool.fwc]"
    else:
        table, where = data, ""
    return config_from_mapping(table, path=path, where=where)


def config_from_mapping(table: dict, *, path: Path | None = None, where: str = "") -> Config:
    """Validate a config table (the contents of ``.fwc.toml`` or ``[tool.fwc]``)."""
    v = _Validator(path, where)
    for key in table:
        if key not in _KEYS:
            v.fail(None, f"unknown key {key!r}{_did_you_mean(key, _KEYS)}")
    codes = set(load_checks())
    select = table.get("select")
    per_file = v.table(table, "per-file-ignores")
    return Config(
        path=path,
        root=path.parent.resolve() if path else Path.cwd(),
        select=None if select is None else tuple(v.selectors(select, "select", codes)),
        extend_select=tuple(v.selectors(table.get("extend-select", []), "extend-select", codes)),
        ignore=tuple(v.selectors(table.get("ignore", []), "ignore", codes)),
        per_file_ignores=tuple(
            (str(glob), tuple(v.selectors(sels, f"per-file-ignores.{glob!r}", codes)))
            for glob, sels in per_file.items()),
        severity=v.severities(v.table(table, "severity"), codes),
        fail_on=v.severity(table.get("fail-on", "warning"), "fail-on"),
        settings=Settings(
            management_ports=tuple(v.ports(table.get("management-ports", list(DEFAULT_MANAGEMENT_PORTS)),
                                           "management-ports")),
            sensitive_ports=v.sensitive_ports(table.get("sensitive-ports")),
            options=v.options(v.table(table, "options")),
        ),
    )


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _severity(text: Any, key: str) -> Severity:
    if not isinstance(text, str):
        raise FwcError(f"{key}: expected one of error, warning, info, got {text!r}")
    try:
        return Severity.parse(text)
    except ValueError:
        raise FwcError(f"{key}: unknown severity {text!r} (use error, warning or info)"
                       f"{_did_you_mean(text.lower(), ('error', 'warning', 'info'))}") from None


def _selectors(values: list[str], key: str, codes: set[str]) -> list[str]:
    out = []
    for raw in values:
        for item in str(raw).split(","):
            sel = item.strip().upper()
            if not sel:
                continue
            problem = _selector_problem(sel, codes)
            if problem:
                raise FwcError(f"{key}: {problem}")
            out.append(sel)
    return out


def _selector_problem(sel: str, codes: set[str]) -> str | None:
    if not _SELECTOR.match(sel):
        return (f"{sel!r} is not a check code or prefix (like FW301 or FW3)"
                f"{_did_you_mean(sel, sorted(codes))}")
    if sel != "ALL" and not any(c.startswith(sel) for c in codes):
        return f"unknown code {sel!r}{_did_you_mean(sel, sorted(codes))}"
    return None


class _Validator:
    def __init__(self, path: Path | None, where: str):
        self.prefix = f"{path}: " if path else ""
        self.where = f"{where} " if where else ""

    def fail(self, key: str | None, message: str):
        where = f"{key}: " if key else ""
        raise FwcError(f"{self.prefix}{self.where}{where}{message}")

    def table(self, table: dict, key: str) -> dict:
        value = table.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"expected a table, got {type(value).__name__}")
        return value

    def selectors(self, value: Any, key: str, codes: set[str]) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "expected a list of codes like [\"FW301\", \"FW4\"]")
        try:
            return _selectors(value, key, codes)
        except FwcError as exc:
            raise FwcError(f"{self.prefix}{self.where}{exc}") from None

    def severity(self, value: Any, key: str) -> Severity:
        try:
            return _severity(value, key)
        except FwcError as exc:
            raise FwcError(f"{self.prefix}{self.where}{exc}") from None

    def severities(self, table: dict, codes: set[str]) -> dict[str, Severity]:
        out = {}
        for code, sev in table.items():
            norm = code.upper()
            if norm not in codes:
                self.fail(f"severity.{code}", f"unknown code{_did_you_mean(norm, sorted(codes))}")
            out[norm] = self.severity(sev, f"severity.{code}")
        return out

    def ports(self, value: Any, key: str) -> list[int]:
        if not isinstance(value, list):
            self.fail(key, "expected a list of port numbers")
        for port in value:
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                self.fail(key, f"{port!r} is not a port number (1-65535)")
        return list(value)

    def sensitive_ports(self, value: Any) -> dict[int, str]:
        key = "sensitive-ports"
        if value is None:
            return dict(DEFAULT_SENSITIVE_PORTS)
        if isinstance(value, list):
            return {p: DEFAULT_SENSITIVE_PORTS.get(p, f"port {p}") for p in self.ports(value, key)}
        if isinstance(value, dict):
            out = {}
            for port, name in value.items():
                if not str(port).isdigit():
                    self.fail(key, f"{port!r} is not a port number (1-65535)")
                (number,) = self.ports([int(port)], key)
                if not isinstance(name, str):
                    self.fail(f"{key}.{port}", "expected the service's name as a string")
                out[number] = name
            return out
        self.fail(key, "expected a list of ports or a table of port = \"service\"")

    def options(self, table: dict) -> dict[str, dict[str, Any]]:
        registry = load_checks()
        merged = _default_options()
        for code, opts in table.items():
            norm = code.upper()
            cls = registry.get(norm)
            if cls is None:
                self.fail(f"options.{code}", f"unknown code{_did_you_mean(norm, sorted(registry))}")
            if not isinstance(opts, dict):
                self.fail(f"options.{code}", "expected a table of option = value")
            for name, value in opts.items():
                if name not in cls.options:
                    known = ", ".join(sorted(cls.options)) or "none"
                    self.fail(f"options.{code}.{name}",
                              f"{norm} has no option {name!r}{_did_you_mean(name, cls.options)}"
                              f" (options: {known})")
                default = cls.options[name]
                if default is not None and not _same_type(default, value):
                    self.fail(f"options.{code}.{name}",
                              f"expected {type(default).__name__}, got {type(value).__name__}")
                merged.setdefault(norm, dict(cls.options))[name] = value
        return merged


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        return isinstance(value, list)
    return isinstance(value, type(default))
