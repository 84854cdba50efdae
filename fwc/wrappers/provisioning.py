"""Reading provisioning files: cloud-config (CoreOS/Flatcar, cloud-init) and Butane.

``read_provisioning(source)`` turns one YAML file into a :class:`~fwc.document.Document`:

- every rules file the YAML writes (``write_files`` in a cloud-config,
  ``storage.files`` in Butane) whose path or content says it is an iptables-save file is
  read with the rules-save reader, through a :class:`~fwc.source.LineMap`, so each
  finding points at the line and column of the YAML file. A literal block scalar
  (``content: |``) maps line for line; any other scalar style (quoted, folded, base64)
  cannot be mapped line for line, so all its findings point at the scalar itself;
- the YAML view the FW5xx checks need (files with their ``permissions``, units and the
  rules files they load) goes to ``Document.extra["provisioning"]`` as a
  :class:`ProvisioningView`.

YAML is only ever *composed* with PyYAML's safe loader (a tree of nodes with positions,
no Python objects built), and only the parts of the tree a provisioning file defines are
visited, under a budget: a file with too many aliases or one whose aliases expand past
the budget (a "billion laughs" file) is refused with an FW001 diagnostic instead of
hanging.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import shlex
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Iterator

import yaml

from ..diagnostics import Diagnostic, Severity
from ..document import Comment, Document
from ..model import Ruleset
from ..source import LineMap, SourceFile, Span

# Refuse YAML that uses more aliases than any real provisioning file does, or whose
# aliases would make us visit more nodes than this (alias bombs).
MAX_ALIASES = 1000
MAX_VISITS = 200_000

CLOUD_CONFIG_HEADER = "#cloud-config"

# Top-level keys that only a cloud-config has; a YAML file with one of them is read as a
# cloud-config even when its header is missing (FW501 says so).
CLOUD_CONFIG_KEYS = frozenset({
    "write_files", "runcmd", "bootcmd", "packages", "package_update", "package_upgrade",
    "coreos", "users", "ssh_authorized_keys", "hostname", "fqdn", "manage_etc_hosts",
    "apt", "yum_repos", "snap", "timezone", "ntp", "mounts", "final_message",
})
BUTANE_VARIANTS = frozenset({"fcos", "flatcar", "openshift", "r4e", "fiot"})

# Units shipped by distributions that load a rules file at boot.
KNOWN_LOADERS: dict[str, tuple[tuple[int, str], ...]] = {
    "iptables-restore.service": ((4, "/var/lib/iptables/rules-save"),),
    "ip6tables-restore.service": ((6, "/var/lib/ip6tables/rules-save"),),
    "netfilter-persistent.service": ((4, "/etc/iptables/rules.v4"), (6, "/etc/iptables/rules.v6")),
    "iptables.service": ((4, "/etc/sysconfig/iptables"),),
    "ip6tables.service": ((6, "/etc/sysconfig/ip6tables"),),
}
# Packages whose installation enables one of those units (Debian's postinst does).
LOADER_PACKAGES: dict[str, str] = {
    "iptables-persistent": "netfilter-persistent.service",
    "netfilter-persistent": "netfilter-persistent.service",
}
# Where distributions expect rules files, and the family of each.
KNOWN_RULES_PATHS: dict[str, int] = {
    path: family for paths in KNOWN_LOADERS.values() for family, path in paths
}
# coreos-cloudinit runs its units section on every boot, so these also load each boot.
BOOT_COMMANDS = frozenset({"start", "restart", "reload-or-restart", "try-restart"})


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class Scalar:
    """A YAML scalar as written: its value, its text, its style and where it sits."""

    value: Any
    text: str
    tag: str
    style: str | None  # None (plain), "'", '"', "|" or ">"
    span: Span
    key_span: Span | None = None

    @property
    def is_plain(self) -> bool:
        return self.style is None


@dataclass(frozen=True)
class WrittenFile:
    """One entry of ``write_files`` (cloud-config) or ``storage.files`` (Butane)."""

    path: Scalar | None
    permissions: Scalar | None  # ``permissions`` (cloud-config) or ``mode`` (Butane)
    content: Scalar | None
    text: str | None  # the decoded content, None when it cannot be decoded
    span: Span  # the list item
    is_rules: bool = False
    family: int | None = None  # 4 or 6 once read, for rules files

    @property
    def target(self) -> str | None:
        return normalise_path(self.path.value) if self.path and isinstance(self.path.value, str) else None


@dataclass(frozen=True)
class Loader:
    """Something that loads rules files at boot: an enabled unit, a package that
    enables one, or a ``bootcmd`` line running ``iptables-restore``."""

    name: str  # "iptables-restore.service", "bootcmd", ...
    reads: tuple[tuple[int, str], ...]  # (family, path) pairs
    enabled: bool
    span: Span
    how: str  # words for messages: "enabled in coreos.units", "installed by packages" ...
    source: str = "unit"  # "unit", "package" or "command"


@dataclass(frozen=True)
class ProvisioningView:
    kind: str | None  # "cloud-config", "butane" or None (a YAML file of another kind)
    header: str
    variant: str | None = None  # Butane variant, or "coreos" / "cloud-init"
    files: tuple[WrittenFile, ...] = ()
    loaders: tuple[Loader, ...] = ()
    # Rules loaded by runcmd (first boot only): path -> span of the command.
    run_once: dict[str, Span] = field(default_factory=dict)
    parsed: bool = True  # False when the YAML could not be read
    # Where embedded rules could not be mapped line for line (quoted, folded or encoded
    # content): findings there point at the key, and fixes must not edit there.
    unmapped: tuple[Span, ...] = ()

    def rules_files(self) -> tuple[WrittenFile, ...]:
        return tuple(f for f in self.files if f.is_rules)

    def enabled_loaders(self) -> tuple[Loader, ...]:
        return tuple(lo for lo in self.loaders if lo.enabled)

    def match_loaders(self) -> "LoaderMatch":
        """Pair the rules files written with the enabled loaders that read them."""
        written = {f.target for f in self.rules_files()}
        enabled = self.enabled_loaders()
        loaded = {path for lo in enabled for _, path in lo.reads}
        claimed: list[tuple[Loader, str]] = []
        mismatched, unloaded = [], []
        for f in self.rules_files():
            if f.target in loaded:
                continue
            candidate = next(((lo, path) for lo in enabled for family, path in lo.reads
                              if path not in written and family == (f.family or family)
                              and (lo, path) not in claimed), None)
            if candidate:
                claimed.append(candidate)
                mismatched.append((f, *candidate))
            else:
                unloaded.append(f)
        idle = [lo for lo in enabled if lo.source != "package"
                and not any(path in written for _, path in lo.reads)
                and not any(lo is c for c, _ in claimed)]
        return LoaderMatch(tuple(mismatched), tuple(unloaded), tuple(idle))


@dataclass(frozen=True)
class LoaderMatch:
    # (file, loader, the path the loader reads) for a file written at the wrong path.
    mismatched: tuple[tuple[WrittenFile, Loader, str], ...]
    # Rules files that nothing loads at boot.
    unloaded: tuple[WrittenFile, ...]
    # Enabled units that load rules nobody writes.
    idle: tuple[Loader, ...]


def view_of(document: Document) -> ProvisioningView | None:
    """The provisioning view of a document, None for other documents."""
    view = document.extra.get("provisioning") if document.extra else None
    return view if isinstance(view, ProvisioningView) and view.kind and view.parsed else None


def loaders_for_path(path: str) -> list[str]:
    """Names of the shipped units that read ``path``."""
    return [name for name, reads in KNOWN_LOADERS.items() if any(p == path for _, p in reads)]


# --------------------------------------------------------------------------- detection


def sniff_kind(text: str, path: str = "") -> str | None:
    """``"cloud-config"``, ``"butane"`` or None for a YAML file of another kind.

    A ``#cloud-config`` header (or something close to it) says cloud-config; a ``.bu``
    file or a top-level ``variant:`` of a Butane variant says Butane; otherwise a
    mapping with a cloud-config key (``write_files``, ``coreos``, ``runcmd`` ...) is a
    cloud-config whose header is missing.
    """
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    if re.fullmatch(r"#\s*cloud-?config\b.*", first, re.IGNORECASE):
        return "cloud-config"
    keys = _top_level_keys(text)
    if path.endswith(".bu") or keys.get("variant") in BUTANE_VARIANTS:
        return "butane"
    if CLOUD_CONFIG_KEYS & keys.keys():
        return "cloud-config"
    return None


def _top_level_keys(text: str) -> dict[str, str]:
    """Top-level ``key: value`` pairs found by a line scan (cheap, never fails)."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"([A-Za-z_][\w-]*)\s*:(?:\s+([^#\s]+))?\s*(?:#.*)?$", line)
        if m:
            found[m.group(1)] = (m.group(2) or "").strip("'\"")
    return found


def rules_family_for_path(path: str) -> tuple[bool, int | None]:
    """(the path names an iptables rules file, its family when the name says)."""
    p = normalise_path(path)
    if p in KNOWN_RULES_PATHS:
        return True, KNOWN_RULES_PATHS[p]
    name = PurePosixPath(p).name
    six = "ip6tables" in p or name.endswith(".v6") or "ipv6" in p
    if name in ("rules-save", "rules.v4", "rules.v6") or re.fullmatch(r"ip6?tables.*\.save", name):
        return True, 6 if six else 4
    return False, None


_TABLE = re.compile(r"\s*\*(filter|nat|mangle|raw|security)\s*$")
_RULES_LINE = re.compile(r"\s*(\*\w+|:[\w.-]+\s+\S+|-[AIN]\s+\S+|COMMIT\b)")


def looks_like_rules(text: str) -> bool:
    """True when ``text`` reads as an iptables-save file (not nftables, not a unit)."""
    meaningful = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not meaningful:
        return False
    rules = sum(1 for ln in meaningful if _RULES_LINE.match(ln))
    has_rule = any(_TABLE.match(ln) or ln.lstrip().startswith("-A ") for ln in meaningful)
    return has_rule and rules * 2 > len(meaningful) and bool(_RULES_LINE.match(meaningful[0]))


def normalise_path(path: str) -> str:
    return str(PurePosixPath("/" + path.strip().lstrip("/"))) if path.strip() else ""


# --------------------------------------------------------------------------- YAML


class _TooComplex(Exception):
    def __init__(self, message: str, mark: yaml.Mark | None):
        super().__init__(message)
        self.mark = mark


class _CountingLoader(yaml.SafeLoader):
    """The safe loader, counting aliases and remembering multi-line scalars' lines."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0
        self.inner_lines: set[int] = set()  # 0-based lines wholly inside multi-line scalars

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _TooComplex(f"more than {MAX_ALIASES} YAML aliases: refusing to expand them", mark)
        return super().compose_node(parent, index)

    def compose_scalar_node(self, anchor):
        node = super().compose_scalar_node(anchor)
        start, end = node.start_mark, node.end_mark
        if end.line > start.line:
            # A block scalar ends at column 0 of the line after its text; that line and
            # the indicator's line may carry real comments.
            last = end.line - 1 if end.column == 0 else end.line
            self.inner_lines.update(range(start.line + 1, last + 1))
        return node


class _Tree:
    """Schema-directed access to a composed YAML tree, under a visit budget."""

    def __init__(self, loader: _CountingLoader, path: str):
        self.loader = loader
        self.path = path
        self.visits = 0

    def _spend(self, node: yaml.Node) -> None:
        self.visits += 1
        if self.visits > MAX_VISITS:
            raise _TooComplex(f"the YAML expands to more than {MAX_VISITS} nodes through its aliases: "
                              "refusing to read it", node.start_mark)

    def span(self, node: yaml.Node) -> Span:
        s, e = node.start_mark, node.end_mark
        return Span(self.path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)

    def scalar(self, node: yaml.Node | None, key: yaml.Node | None = None) -> Scalar | None:
        if not isinstance(node, yaml.ScalarNode):
            return None
        self._spend(node)
        try:
            value = self.loader.construct_object(node, deep=False)
        except yaml.YAMLError:
            value = node.value
        key_span = self.span(key) if key is not None else None
        return Scalar(value, node.value, node.tag, node.style or None, self.span(node), key_span)

    def pairs(self, node: yaml.Node | None, depth: int = 0) -> Iterator[tuple[yaml.Node, yaml.Node]]:
        """The key/value pairs of a mapping, merge keys (``<<``) included."""
        if not isinstance(node, yaml.MappingNode) or depth > 10:
            return
        self._spend(node)
        merged = []
        for key, value in node.value:
            self._spend(key)
            if key.tag == "tag:yaml.org,2002:merge":
                merged.extend(value.value if isinstance(value, yaml.SequenceNode) else [value])
            else:
                yield key, value
        for m in merged:
            yield from self.pairs(m, depth + 1)

    def get(self, node: yaml.Node | None, name: str) -> tuple[yaml.Node | None, yaml.Node | None]:
        """(key node, value node) of ``name`` in a mapping (the first one wins, as in
        a merge; a later duplicate key overrides an earlier one, as PyYAML does)."""
        found = (None, None)
        for key, value in self.pairs(node):
            if isinstance(key, yaml.ScalarNode) and key.value == name:
                if found[0] is None or found[0].start_mark.line < key.start_mark.line:
                    found = (key, value)
        return found

    def items(self, node: yaml.Node | None) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            return []
        self._spend(node)
        for item in node.value:
            self._spend(item)
        return list(node.value)

    def text_of(self, node: yaml.Node | None) -> str | None:
        s = self.scalar(node)
        if s is None:
            return None
        return s.value if isinstance(s.value, str) else str(s.value)


def compose(text: str) -> tuple[_CountingLoader, yaml.Node | None]:
    """The node tree of ``text``; refuses alias bombs and recursive aliases."""
    loader = _CountingLoader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    if loader.aliases and root is not None:
        expanded_size(root)
    return loader, root


def expanded_size(root: yaml.Node) -> int:
    """How many nodes the tree has once every alias is expanded (memoised, so linear in
    the composed tree); raises :class:`_TooComplex` past :data:`MAX_VISITS` or on a
    recursive alias, whose expansion never ends."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # Iterative post-order walk: a deep document must not exhaust Python's stack.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > MAX_VISITS:
                raise _TooComplex(f"the YAML expands to more than {MAX_VISITS} nodes through its "
                                  "aliases: refusing to read it", node.start_mark)
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise _TooComplex("a YAML alias refers to the node that contains it (a recursive "
                              "structure): refusing to read it", node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


# --------------------------------------------------------------------------- reading


def read_provisioning(source: SourceFile) -> Document:
    """Read a cloud-config or Butane file; see the module docstring."""
    path = source.path
    kind = sniff_kind(source.text, path)
    header = source.line(1)
    try:
        loader, root = compose(source.text)
        tree = _Tree(loader, path)
        view, embedded = _build_view(tree, root, kind, header)
    except _TooComplex as exc:
        return _unreadable(source, kind, header, str(exc), exc.mark)
    except yaml.MarkedYAMLError as exc:
        if kind is None:  # YAML of another kind that does not parse: not ours to judge
            return Document(path, "cloud-config", source,
                            extra={"provisioning": ProvisioningView(None, header, parsed=False)})
        mark = exc.problem_mark or exc.context_mark
        return _unreadable(source, kind, header, _yaml_message(exc), mark)
    except yaml.YAMLError as exc:
        return _unreadable(source, kind, header, f"YAML: {exc}", None)

    rulesets, diagnostics, comments, files, unmapped, sources = _read_embedded(tree, embedded, source)
    view = replace(view, files=tuple(files), unmapped=tuple(unmapped))
    comments.extend(yaml_comments(source, loader.inner_lines))
    comments.sort(key=lambda c: (c.span.line, c.span.col))
    return Document(path, _document_kind(kind), source, rulesets=tuple(rulesets),
                    diagnostics=tuple(diagnostics), comments=tuple(comments), sources=sources,
                    extra={"provisioning": view})


def _document_kind(kind: str | None) -> str:
    return kind or "cloud-config"


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return "YAML: " + ", ".join(parts) if parts else "YAML: the file does not parse"


def _unreadable(source: SourceFile, kind: str | None, header: str, message: str,
                mark: yaml.Mark | None) -> Document:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    diag = Diagnostic("FW001", Severity.ERROR, Span.point(source.path, line, col), message)
    view = ProvisioningView(kind, header, parsed=False)
    return Document(source.path, _document_kind(kind), source, diagnostics=(diag,),
                    extra={"provisioning": view})


@dataclass(frozen=True)
class _Embedded:
    """A file entry before its content is read as rules."""

    entry: WrittenFile
    node: yaml.Node | None  # the content scalar node
    encoded: bool  # content was decoded (base64/gzip/data URL): no line mapping
    local: SourceFile | None = None  # Butane contents.local: the rules live in that file


def _build_view(tree: _Tree, root: yaml.Node | None, kind: str | None,
                header: str) -> tuple[ProvisioningView, list[_Embedded]]:
    if kind is None and isinstance(root, yaml.MappingNode):
        kind = _kind_from_keys(tree, root)
    if kind == "butane":
        return _butane_view(tree, root, header)
    if kind == "cloud-config":
        return _cloud_config_view(tree, root, header)
    return ProvisioningView(None, header), []


def _kind_from_keys(tree: _Tree, root: yaml.Node) -> str | None:
    keys = {k.value for k, _ in tree.pairs(root) if isinstance(k, yaml.ScalarNode)}
    if tree.text_of(tree.get(root, "variant")[1]) in BUTANE_VARIANTS:
        return "butane"
    return "cloud-config" if keys & CLOUD_CONFIG_KEYS else None


def _cloud_config_view(tree: _Tree, root: yaml.Node | None,
                       header: str) -> tuple[ProvisioningView, list[_Embedded]]:
    embedded = [_cloud_config_file(tree, item) for item in tree.items(tree.get(root, "write_files")[1])
                if isinstance(item, yaml.MappingNode)]
    coreos = tree.get(root, "coreos")[1]
    loaders = [_unit_loader(tree, u, embedded, _COREOS_UNIT) for u in tree.items(tree.get(coreos, "units")[1])]
    loaders += _package_loaders(tree, tree.items(tree.get(root, "packages")[1]))
    boot, enabled_names = _command_loaders(tree, tree.items(tree.get(root, "bootcmd")[1]), every_boot=True)
    run, names_run = _command_loaders(tree, tree.items(tree.get(root, "runcmd")[1]), every_boot=False)
    loaders += boot
    loaders += _systemctl_enabled(enabled_names + names_run, embedded)
    run_once = {path: lo.span for lo in run for _, path in lo.reads}
    variant = "coreos" if coreos is not None else "cloud-init"
    view = ProvisioningView("cloud-config", header, variant, tuple(e.entry for e in embedded),
                            tuple(lo for lo in loaders if lo is not None), run_once)
    return view, embedded


def _cloud_config_file(tree: _Tree, item: yaml.Node) -> _Embedded:
    path_key, path = tree.get(item, "path")
    perm_key, perm = tree.get(item, "permissions")
    content_key, content = tree.get(item, "content")
    encoding = (tree.text_of(tree.get(item, "encoding")[1]) or "").strip().lower()
    content_scalar = tree.scalar(content, content_key)
    text = _decode(content_scalar.value, encoding) if content_scalar else ""
    entry = WrittenFile(tree.scalar(path, path_key), tree.scalar(perm, perm_key), content_scalar,
                        text, tree.span(item))
    return _Embedded(entry, content, encoded=bool(encoding) or isinstance(content_scalar and content_scalar.value, bytes))


def _decode(value: Any, encoding: str) -> str | None:
    """The text cloud-init would write (``encoding: b64 | gzip | gz+b64``)."""
    try:
        data = value if isinstance(value, bytes) else str(value if value is not None else "").encode()
        if encoding in ("b64", "base64", "gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
            data = base64.b64decode(data, validate=False)
        if encoding.startswith("gz"):
            data = gzip.decompress(data)
        return data.decode("utf-8", errors="replace")
    except (binascii.Error, OSError, EOFError, ValueError):
        return None


def _butane_view(tree: _Tree, root: yaml.Node | None,
                 header: str) -> tuple[ProvisioningView, list[_Embedded]]:
    storage = tree.get(root, "storage")[1]
    embedded = [_butane_file(tree, item) for item in tree.items(tree.get(storage, "files")[1])
                if isinstance(item, yaml.MappingNode)]
    systemd = tree.get(root, "systemd")[1]
    loaders = [_unit_loader(tree, u, embedded, _BUTANE_UNIT) for u in tree.items(tree.get(systemd, "units")[1])]
    variant = tree.text_of(tree.get(root, "variant")[1])
    view = ProvisioningView("butane", header, variant, tuple(e.entry for e in embedded),
                            tuple(lo for lo in loaders if lo is not None))
    return view, embedded


def _butane_file(tree: _Tree, item: yaml.Node) -> _Embedded:
    path_key, path = tree.get(item, "path")
    mode_key, mode = tree.get(item, "mode")
    contents = tree.get(item, "contents")[1]
    compression = (tree.text_of(tree.get(contents, "compression")[1]) or "").strip().lower()
    local = None
    for key in ("inline", "local", "source"):
        content_key, node = tree.get(contents, key)
        if node is not None:
            break
    content_scalar = tree.scalar(node, content_key)
    if content_scalar is None:
        text = None
    elif key == "inline":
        text = content_scalar.text
    elif key == "local":
        local = _local_file(tree.path, content_scalar.text)
        text = local.text if local else None
    else:
        data = _data_url(content_scalar.text)
        text = _decode(data, "gzip" if compression else "") if data is not None else None
    entry = WrittenFile(tree.scalar(path, path_key), tree.scalar(mode, mode_key), content_scalar,
                        text, tree.span(item))
    return _Embedded(entry, node, encoded=key != "inline", local=local)


def _local_file(butane_path: str, name: str) -> SourceFile | None:
    """``contents.local``: a file beside the Butane config (``butane --files-dir``)."""
    candidate = PurePosixPath(butane_path).parent / name
    try:
        return SourceFile.read(str(candidate))
    except OSError:
        return None


def _data_url(url: str) -> bytes | None:
    """The bytes of a ``data:`` URL (Ignition/Butane ``contents.source``)."""
    if not url.startswith("data:") or "," not in url:
        return None
    meta, payload = url[5:].split(",", 1)
    if meta.endswith(";base64"):
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return None
    return urllib.parse.unquote_to_bytes(payload)


# --------------------------------------------------------------------------- loaders

_RESTORE = re.compile(r"\b(ip6?tables)(?:-legacy|-nft)?-restore\b([^\n;|&]*)")
_OPTS_WITH_ARG = frozenset({"-M", "--modprobe", "-T", "--table", "-W", "--wait-interval"})


def restore_paths(text: str) -> tuple[tuple[int, str], ...]:
    """The (family, path) pairs ``iptables-restore``/``ip6tables-restore`` commands in
    ``text`` (unit ``ExecStart=`` lines, shell commands) read."""
    found = []
    for m in _RESTORE.finditer(text):
        family = 6 if m.group(1) == "ip6tables" else 4
        path = _restore_argument(m.group(2))
        if path:
            found.append((family, normalise_path(path)))
    return tuple(dict.fromkeys(found))


def _restore_argument(rest: str) -> str | None:
    redirect = re.search(r"<\s*(\S+)", rest)
    if redirect:
        return redirect.group(1).strip("'\"")
    try:
        words = shlex.split(rest.split("#", 1)[0])
    except ValueError:
        words = rest.split()
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _OPTS_WITH_ARG:
            skip = True
        elif word.startswith("-") or word.isdigit():  # options, and -w's seconds
            continue
        elif word.startswith("/"):
            return word.rstrip("\"'")
        else:
            return None
    return None


def _unit_reads(name: str, content: str | None, dropins: list[str]) -> tuple[tuple[int, str], ...]:
    """What a unit loads: its own ExecStart lines if it defines them, else the shipped
    unit of that name."""
    for text in [*reversed(dropins), content]:
        if text and re.search(r"^\s*ExecStart(Pre|Post)?\s*=", text, re.MULTILINE):
            reads = restore_paths(text)
            if reads or text is content:
                return reads
    return KNOWN_LOADERS.get(name, ())


def _unit_from_file(name: str, embedded: list[_Embedded]) -> str | None:
    """A unit's text written by write_files (/etc/systemd/system/NAME)."""
    for e in embedded:
        t = e.entry.target
        if t and PurePosixPath(t).name == name and t.startswith(("/etc/systemd/", "/usr/lib/systemd/", "/lib/systemd/")):
            return e.entry.text
    return None


@dataclass(frozen=True)
class _UnitKeys:
    """How a unit entry spells its keys: CoreOS cloud-config and Butane differ."""

    section: str
    content: str
    dropins: str
    enable: str
    boot_commands: frozenset[str] = frozenset()


_COREOS_UNIT = _UnitKeys("coreos.units", "content", "drop_ins", "enable", BOOT_COMMANDS)
_BUTANE_UNIT = _UnitKeys("systemd.units", "contents", "dropins", "enabled")


def _unit_loader(tree: _Tree, unit: yaml.Node, embedded: list[_Embedded], keys: _UnitKeys
                 ) -> Loader | None:
    name_node = tree.get(unit, "name")[1]
    name = tree.text_of(name_node)
    if not name:
        return None
    content = tree.text_of(tree.get(unit, keys.content)[1]) or _unit_from_file(name, embedded)
    dropins = [tree.text_of(tree.get(d, keys.content)[1]) or ""
               for d in tree.items(tree.get(unit, keys.dropins)[1])]
    reads = _unit_reads(name, content, dropins)
    if not reads:
        return None
    enable = tree.scalar(tree.get(unit, keys.enable)[1])
    command = (tree.text_of(tree.get(unit, "command")[1]) or "").strip() if keys.boot_commands else ""
    mask = tree.scalar(tree.get(unit, "mask")[1])
    enabled = ((bool(enable and enable.value is True) or command in keys.boot_commands)
               and not (mask and mask.value is True))
    how = (f"enabled in {keys.section}" if enabled
           else f"listed in {keys.section} but not enabled")
    return Loader(name, reads, enabled, tree.span(name_node), how)


def _package_loaders(tree: _Tree, packages: list[yaml.Node]) -> list[Loader]:
    loaders = []
    for node in packages:
        # An entry is a name or a [name, version] list.
        first = tree.items(node)[0] if isinstance(node, yaml.SequenceNode) and node.value else node
        name = (tree.text_of(first) or "").strip()
        unit = LOADER_PACKAGES.get(name)
        if unit:
            loaders.append(Loader(unit, KNOWN_LOADERS[unit], True, tree.span(first),
                                  f"enabled by installing the package {name}", "package"))
    return loaders


def _command_text(tree: _Tree, node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return " ".join(shlex.quote(tree.text_of(n) or "") for n in tree.items(node))
    return tree.text_of(node) or ""


def _command_loaders(tree: _Tree, commands: list[yaml.Node],
                     every_boot: bool) -> tuple[list[Loader], list[tuple[str, Span]]]:
    """Loaders from ``bootcmd``/``runcmd`` lines, and the units they ``systemctl enable``."""
    loaders, enabled = [], []
    where = "bootcmd" if every_boot else "runcmd"
    for node in commands:
        text = _command_text(tree, node)
        reads = restore_paths(text)
        if reads:
            how = "run on every boot by bootcmd" if every_boot else "run once, on the first boot, by runcmd"
            loaders.append(Loader(where, reads, every_boot, tree.span(node), how, "command"))
        for m in re.finditer(r"\bsystemctl\s+(?:--now\s+)?enable\s+(?:--now\s+)?([\w@.\s-]+)", text):
            for unit in m.group(1).split():
                if not unit.startswith("-"):
                    name = unit if "." in unit else unit + ".service"
                    enabled.append((name, tree.span(node)))
    return loaders, enabled


def _systemctl_enabled(names: list[tuple[str, Span]], embedded: list[_Embedded]) -> list[Loader]:
    loaders = []
    for name, span in names:
        reads = _unit_reads(name, _unit_from_file(name, embedded), [])
        if reads:
            loaders.append(Loader(name, reads, True, span, "enabled by systemctl enable"))
    return loaders


# --------------------------------------------------------------------------- rules


def _read_embedded(tree: _Tree, embedded: list[_Embedded], source: SourceFile):
    """Read every rules file with the rules-save reader, spans mapped to the YAML."""
    rulesets: list[Ruleset] = []
    diagnostics: list[Diagnostic] = []
    comments: list[Comment] = []
    files: list[WrittenFile] = []
    unmapped: list[Span] = []
    sources: dict[str, SourceFile] = {}
    for e in embedded:
        entry = e.entry
        by_path, family = rules_family_for_path(entry.target or "")
        text = entry.text
        if text is None or not (by_path or looks_like_rules(text)) or _is_unit_or_nft(entry.target or ""):
            files.append(entry)
            continue
        from ..parse.rules_save import read_rules

        if e.local is not None:  # findings point at the local file itself
            sources[e.local.path] = e.local
            read = read_rules(text, e.local.path, family=family)
        else:
            linemap = _linemap(tree, e, source)
            if isinstance(linemap, FixedLineMap):
                unmapped.append(_region(entry))
            read = read_rules(text, source.path, family=family, linemap=linemap)
        rulesets.append(read.ruleset)
        diagnostics.extend(read.diagnostics)
        comments.extend(read.comments)
        files.append(replace(entry, is_rules=True, family=read.ruleset.family))
    return rulesets, diagnostics, comments, files, unmapped, sources


def _region(entry: WrittenFile) -> Span:
    """From the content's key to the end of its value."""
    content = entry.content
    if content is None:
        return entry.span
    start = content.key_span or content.span
    return Span(start.path, start.line, start.col, content.span.end_line, content.span.end_col)


def _is_unit_or_nft(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.endswith((".nft", ".service", ".socket", ".timer")) or name == "nftables.conf"


def _linemap(tree: _Tree, e: _Embedded, source: SourceFile) -> LineMap:
    """Where the content's lines sit in the YAML file."""
    node = e.node
    if not e.encoded and isinstance(node, yaml.ScalarNode) and node.style == "|":
        first_line, indent = block_scalar_position(source, node)
        return LineMap(source.path, first_line, indent)
    anchor = e.entry.content.key_span if e.entry.content and e.entry.content.key_span else e.entry.span
    return FixedLineMap(source.path, anchor.line, 0, anchor=anchor)


def block_scalar_position(source: SourceFile, node: yaml.ScalarNode) -> tuple[int, int]:
    """(1-based line of the first content line, indentation) of a literal block scalar."""
    indicator_line = node.start_mark.line  # 0-based line of the "|"
    header = source.line(indicator_line + 1)[node.start_mark.column:]
    explicit = re.match(r"\|[+-]?([1-9])|\|([1-9])[+-]?", header)
    if explicit:
        return indicator_line + 2, _parent_indent(source, node) + int(explicit.group(1) or explicit.group(2))
    for number in range(indicator_line + 2, node.end_mark.line + 2):
        line = source.line(number)
        if line.strip():
            return indicator_line + 2, len(line) - len(line.lstrip(" "))
    return indicator_line + 2, 0


def _parent_indent(source: SourceFile, node: yaml.ScalarNode) -> int:
    """The indentation of the mapping holding a block scalar (its key's column)."""
    line = source.line(node.start_mark.line + 1)[: node.start_mark.column]
    m = re.search(r"([^\s:-][^:]*):\s*$", line)
    return m.start(1) if m else len(line) - len(line.lstrip(" -"))


@dataclass(frozen=True, slots=True)
class FixedLineMap(LineMap):
    """A line map for content that cannot be mapped line for line (a quoted, folded or
    encoded scalar): every position maps to ``anchor``, the scalar's key."""

    anchor: Span | None = None

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        return self.anchor if self.anchor is not None else Span(self.path, self.first_line, 1, self.first_line, 2)


# --------------------------------------------------------------------------- comments


def yaml_comments(source: SourceFile, inner_lines: set[int]) -> list[Comment]:
    """``#`` comments of the YAML file outside multi-line scalars (for suppressions)."""
    found = []
    for index, line in enumerate(source.lines):
        if index in inner_lines:
            continue
        col = _comment_column(line)
        if col is not None:
            span = Span(source.path, index + 1, col + 1, index + 1, len(line) + 1)
            found.append(Comment(span, line[col + 1:], not line[:col].strip()))
    return found


def _comment_column(line: str) -> int | None:
    """Where a YAML comment starts: ``#`` at the start or after white space, outside
    quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t:[{,-"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return i
    return None
