"""``fwc compile --merge FILE``: put fwc's part into a provisioning file someone else owns.

fwc owns a few list entries of a cloud-config or Butane file: the rules files it writes
(``write_files`` / ``storage.files`` entries, by path), the units that load them
(``coreos.units`` / ``systemd.units`` entries, by name) and, for Ubuntu, its package and
its ``runcmd`` line. A merge replaces exactly those entries with the freshly compiled
ones, adds the ones that are missing and removes ones a previous compile wrote that the
policy no longer needs. Every other byte of the file stays as it was: other units (an
etcd or fleet unit), other files, key order, comments, blank lines and indentation.

Why text splicing rather than load-and-dump: PyYAML's dumper drops every comment, and
ruamel.yaml's round trip keeps comments but re-indents the user's blocks and lists (a
``fleet:`` block indented by four becomes two, ``write_files:`` items lose their offset).
So the file is only *composed* (PyYAML's safe composer: nodes with line/column marks,
no objects built, aliases counted first) to find where fwc's entries are, and those
line ranges are replaced with entries cut from the compiled file, re-indented to the
list they join. Before anything is written, both versions are loaded again and compared:
everything outside fwc's entries must be equal, and fwc's entries must equal the
compiled ones; otherwise the merge stops.

An entry fwc did not write is never replaced: a rules file whose content lacks fwc's
header, a unit with its own ``content`` or drop-ins, a path listed twice. Those stop the
merge with a message naming the line (exit 2), and the file is left untouched.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from ..diagnostics import FwcError
from . import is_generated

MAX_ALIASES = 100
MAX_EVENTS = 1_000_000
MAX_BYTES = 16 * 1024 * 1024
# Keys a unit entry may carry and still be one fwc can take over: naming, enabling and
# starting a unit the OS ships. A unit with its own content is the user's.
PLAIN_UNIT_KEYS = frozenset({"name", "enable", "enabled", "command", "runtime"})


@dataclass(frozen=True)
class Collection:
    """A list fwc puts entries into: where it is, how entries are told apart, and which
    identities fwc owns there (to remove stale ones)."""

    path: tuple[str, ...]
    kind: str  # "file" (key path), "unit" (key name) or "value" (the item itself)
    owned: frozenset[str]


@dataclass(frozen=True)
class Ownership:
    format: str  # cloud-config or butane
    variant: str | None
    collections: tuple[Collection, ...]


IPTABLES_PATHS = frozenset({"/var/lib/iptables/rules-save", "/var/lib/ip6tables/rules-save"})
RESTORE_UNITS = frozenset({"iptables-restore.service", "ip6tables-restore.service"})
OWNERSHIP: dict[str, Ownership] = {
    "coreos": Ownership("cloud-config", None, (
        Collection(("coreos", "units"), "unit", RESTORE_UNITS),
        Collection(("write_files",), "file", IPTABLES_PATHS))),
    "ubuntu": Ownership("cloud-config", None, (
        Collection(("packages",), "value", frozenset({"iptables-persistent"})),
        Collection(("write_files",), "file",
                   frozenset({"/etc/iptables/rules.v4", "/etc/iptables/rules.v6"})),
        Collection(("runcmd",), "value", frozenset({"netfilter-persistent reload"})))),
    "flatcar": Ownership("butane", "flatcar", (
        Collection(("storage", "files"), "file", IPTABLES_PATHS),
        Collection(("systemd", "units"), "unit", RESTORE_UNITS))),
    "fcos": Ownership("butane", "fcos", (
        Collection(("storage", "files"), "file", frozenset({"/etc/sysconfig/nftables.conf"})),
        Collection(("systemd", "units"), "unit", frozenset({"nftables.service"})))),
}


class MergeRefused(FwcError):
    """The file cannot be merged safely; it is left untouched (exit 2)."""


# --------------------------------------------------------------------------- public API


def merge(existing: str, generated: str, *, target: str, path: str) -> str:
    """``existing`` (the text of ``path``) with fwc's entries replaced by those of
    ``generated`` (the target's freshly compiled file). Raises :class:`MergeRefused`."""
    ownership = OWNERSHIP.get(target)
    if ownership is None:
        raise MergeRefused(f"--merge does not support --target {target}")
    if not existing.strip():
        return generated
    if "\r\n" in existing:  # a file edited on Windows keeps its line endings
        merged = merge(existing.replace("\r\n", "\n"), generated, target=target, path=path)
        return merged.replace("\n", "\r\n")
    root = _compose(existing, path)
    new_root = _compose(generated, "<compiled>")
    _check_kind(existing, root, ownership, path)
    lines = existing.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    gen_lines = generated.splitlines(keepends=True)
    edits: list[_Edit] = []
    for collection in ownership.collections:
        edits += _collection_edits(collection, root, lines, new_root, gen_lines, path)
    merged = _apply(lines, edits)
    _verify(existing, merged, generated, ownership, path)
    return merged


def merge_file(path: str, generated: str, *, target: str) -> str:
    """:func:`merge` on the file at ``path``, which must exist (exit 2 otherwise)."""
    try:
        with open(path, "rb") as handle:
            existing = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise FwcError(f"{path}: no such file (--merge updates an existing file; "
                       "to create one, use -o alone)") from None
    except IsADirectoryError:
        raise FwcError(f"{path}: is a directory") from None
    except UnicodeDecodeError:
        raise MergeRefused(f"{path}: not UTF-8 text; not merging") from None
    except OSError as exc:
        raise FwcError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return merge(existing, generated, target=target, path=path)


# --------------------------------------------------------------------------- YAML


def _compose(text: str, path: str) -> yaml.Node | None:
    """The YAML node tree, after refusing documents no provisioning file looks like."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise MergeRefused(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not merging")
    aliases = events = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            events += 1
            aliases += isinstance(event, yaml.AliasEvent)
            if aliases > MAX_ALIASES or events > MAX_EVENTS:
                raise MergeRefused(f"{path}: too many YAML aliases or nodes (an alias bomb?); "
                                   "not merging")
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise MergeRefused(f"{where}: not valid YAML ({exc.problem or exc}); not merging") from None
    except yaml.YAMLError as exc:
        raise MergeRefused(f"{path}: not valid YAML ({exc}); not merging") from None


def _load(text: str) -> Any:
    # Only called on text _compose accepted (aliases bounded).
    return yaml.safe_load(text)


def _check_kind(text: str, root, ownership: Ownership, path: str) -> None:
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise MergeRefused(f"{path}: its top level is not a block mapping; fwc can only merge "
                           "into a cloud-config or Butane mapping")
    variant = _scalar_value(_child(root, "variant"))
    if ownership.format == "cloud-config":
        if variant is not None:
            raise MergeRefused(f"{path} is a Butane file (variant: {variant}); this target "
                               "writes a #cloud-config")
        first = text.split("\n", 1)[0].rstrip("\r")
        if first != "#cloud-config":
            raise MergeRefused(f"{path}:1:1: the first line is not exactly `#cloud-config`, so "
                               "cloud-init would not read it as a cloud-config; fix that first")
    elif variant != ownership.variant:
        raise MergeRefused(f"{path} is not a Butane file for variant {ownership.variant} "
                           f"(its variant is {variant or 'missing'})")


def _child(mapping, key: str):
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for key_node, value in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value
    return None


def _child_pair(mapping, key: str):
    for key_node, value in mapping.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value
    return None


def _scalar_value(node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _identity(kind: str, item) -> str | None:
    """What tells entries of a collection apart: a file's path, a unit's name, or the
    normalised value of a package or command entry."""
    if kind == "file":
        return _normal_path(_scalar_value(_child(item, "path")))
    if kind == "unit":
        return _scalar_value(_child(item, "name"))
    if isinstance(item, yaml.ScalarNode):
        words = shlex.split(item.value) if item.value else []
        return " ".join(words) or None
    if isinstance(item, yaml.SequenceNode):
        return " ".join(w.value for w in item.value if isinstance(w, yaml.ScalarNode))
    return None


def _normal_path(path: str | None) -> str | None:
    if not path:
        return None
    while "//" in path:
        path = path.replace("//", "/")
    return path.rstrip("/") or "/"


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class _Region:
    """Lines ``first``..``last`` (0-based, inclusive) of one list item; ``dash`` is the
    column of its ``-``."""

    first: int
    last: int
    dash: int


def _leaf_end(node) -> tuple[int, int]:
    """Where the last character of a node's own text is (line, column): block mappings and
    lists end at their last leaf, not at the next token as PyYAML marks them."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return node.end_mark.line, node.end_mark.column
    children = (node.value if isinstance(node, yaml.SequenceNode)
                else [n for pair in node.value for n in pair])
    best = (node.start_mark.line, node.start_mark.column)
    for child in children:
        best = max(best, _leaf_end(child))
    return best


def _last_line(node, lines: list[str]) -> int:
    line, column = _leaf_end(node)
    if column == 0:
        line -= 1
    line = min(line, len(lines) - 1)
    while line > node.start_mark.line and not lines[line].strip():
        line -= 1  # a block scalar's end mark takes in the blank lines after it
    return line


def _item_region(item, lines: list[str], path: str) -> _Region:
    line = item.start_mark.line
    text = lines[line]
    dash = text.rfind("-", 0, item.start_mark.column)
    while dash < 0 or text[:dash].strip():
        line -= 1  # `-` alone on its line, the item below it
        if line < 0:
            raise MergeRefused(f"{path}:{item.start_mark.line + 1}: cannot find this list "
                               "item's `-`; not merging")
        text = lines[line]
        dash = text.find("-")
    return _Region(line, _last_line(item, lines), dash)


def _item_text(region: _Region, lines: list[str], dash: int) -> list[str]:
    """An item's lines re-indented so its ``-`` sits at column ``dash``."""
    shift = dash - region.dash
    result = []
    for line in lines[region.first:region.last + 1]:
        if not line.strip():
            result.append(line if line.endswith("\n") else line + "\n")
        elif shift >= 0:
            result.append(" " * shift + line)
        else:
            result.append(line[-shift:] if not line[:-shift].strip() else line.lstrip())
    if result and not result[-1].endswith("\n"):
        result[-1] += "\n"
    return result


# --------------------------------------------------------------------------- edits


@dataclass(frozen=True)
class _Edit:
    """Replace lines ``first``..``last`` (inclusive; ``last = first - 1`` inserts before
    ``first``) with ``text``."""

    first: int
    last: int
    text: tuple[str, ...]


def _apply(lines: list[str], edits: list[_Edit]) -> str:
    """Apply edits bottom-up; insertions at one line keep the order they were made in
    (``coreos.units`` before a new top-level ``write_files`` after the last unit)."""
    result = list(lines)
    ordered = sorted(enumerate(edits), key=lambda p: (p[1].first, p[1].last, p[0]), reverse=True)
    for _, edit in ordered:
        result[edit.first:edit.last + 1] = list(edit.text)
    return "".join(result)


def _collection_edits(collection: Collection, root, lines, new_root, gen_lines,
                      path: str) -> list[_Edit]:
    wanted = _wanted_items(collection, new_root, gen_lines)
    parent, seq = _find(root, collection.path)
    if seq is None:
        return [_insert_collection(collection, root, parent, lines, wanted)] if wanted else []
    if not isinstance(seq, yaml.SequenceNode):
        if isinstance(seq, yaml.ScalarNode) and seq.value in ("", "~", "null"):
            return _fill_empty_key(collection, root, lines, wanted, path)
        raise MergeRefused(f"{path}:{seq.start_mark.line + 1}: `{'.'.join(collection.path)}` "
                           "is not a list; not merging")
    if seq.flow_style:
        if not seq.value and not wanted:
            return []
        raise MergeRefused(f"{path}:{seq.start_mark.line + 1}: `{'.'.join(collection.path)}` "
                           "is a flow list ([...]); write it as a block list (one `- ` item "
                           "per line) so fwc can merge into it")
    return _sequence_edits(collection, seq, lines, wanted, path)


def _wanted_items(collection: Collection, new_root, gen_lines) -> dict[str, list[str]]:
    """identity -> the item's lines (``-`` at column 0) in the compiled file."""
    _, seq = _find(new_root, collection.path)
    wanted: dict[str, list[str]] = {}
    for item in (seq.value if isinstance(seq, yaml.SequenceNode) else ()):
        identity = _identity(collection.kind, item)
        region = _item_region(item, gen_lines, "<compiled>")
        wanted[identity] = _item_text(region, gen_lines, 0)
    return wanted


def _find(root, path: tuple[str, ...]):
    """(deepest existing mapping on the way, the node at ``path`` or None)."""
    node = root
    for key in path[:-1]:
        child = _child(node, key)
        if not isinstance(child, yaml.MappingNode):
            return node, None
        node = child
    return node, _child(node, path[-1])


def _sequence_edits(collection, seq, lines, wanted, path) -> list[_Edit]:
    edits: list[_Edit] = []
    seen: dict[str, int] = {}
    regions = [_item_region(item, lines, path) for item in seq.value]
    dash = regions[0].dash if regions else 0
    for item, region in zip(seq.value, regions):
        identity = _identity(collection.kind, item)
        if identity is None:
            continue
        if identity in seen and (identity in wanted or identity in collection.owned):
            raise MergeRefused(f"{path}:{region.first + 1}: {identity} is listed twice "
                               f"(also on line {seen[identity] + 1}); not merging")
        seen[identity] = region.first
        if identity in wanted:
            _check_takeover(collection, item, identity, path)
            text = _item_text(_Region(0, len(wanted[identity]) - 1, 0), wanted[identity], dash)
            if collection.kind == "value":
                continue  # the package or command is there already, as the user wrote it
            edits.append(_Edit(region.first, region.last, tuple(text)))
        elif identity in collection.owned and _is_stale_fwc_entry(collection, item):
            edits.append(_Edit(region.first, region.last, ()))
    missing = [key for key in wanted if key not in seen]
    if missing:
        after = regions[-1].last + 1 if regions else seq.start_mark.line + 1
        text = [line for key in missing
                for line in _item_text(_Region(0, len(wanted[key]) - 1, 0), wanted[key], dash)]
        edits.append(_Edit(after, after - 1, tuple(text)))
    return edits


def _check_takeover(collection: Collection, item, identity: str, path: str) -> None:
    """Refuse to replace an entry fwc cannot prove is its own (or harmless to take)."""
    line = item.start_mark.line + 1
    if collection.kind == "file":
        content = _file_content(item)
        if content is None or not is_generated(content):
            raise MergeRefused(
                f"{path}:{line}: the entry for {identity} was not written by fwc (its content "
                "does not start with '# Generated by fwc'); refusing to replace it. Move its "
                "rules into the policy and delete the entry, then merge again")
    elif collection.kind == "unit":
        if not isinstance(item, yaml.MappingNode):
            raise MergeRefused(f"{path}:{line}: the entry for {identity} is not a mapping")
        keys = {k.value for k, _ in item.value if isinstance(k, yaml.ScalarNode)}
        extra = sorted(keys - PLAIN_UNIT_KEYS)
        if extra or _scalar_value(_child(item, "mask")) in ("true", "True", "yes"):
            raise MergeRefused(
                f"{path}:{line}: the unit {identity} has its own {', '.join(extra) or 'mask'}; "
                "fwc only takes over a unit entry that just enables the unit the OS ships. "
                "Remove that entry (or its extra keys), then merge again")


def _file_content(item) -> str | None:
    """The text a file entry writes, when it is written inline (not encoded, not fetched)."""
    if not isinstance(item, yaml.MappingNode):
        return None
    if _child(item, "encoding") is not None:
        return None
    content = _child(item, "content")
    if content is None:
        content = _child(_child(item, "contents"), "inline")
    return _scalar_value(content)


def _is_stale_fwc_entry(collection: Collection, item) -> bool:
    """An entry an earlier compile wrote that this one does not: removed, if it is fwc's."""
    if collection.kind == "file":
        content = _file_content(item)
        return content is not None and is_generated(content)
    if collection.kind == "unit":
        keys = {k.value for k, _ in item.value if isinstance(k, yaml.ScalarNode)}
        return keys <= PLAIN_UNIT_KEYS
    return False


def _insert_collection(collection: Collection, root, parent, lines, wanted) -> _Edit:
    """A missing list (and any missing mappings above it) added at the end of the deepest
    mapping that exists, indented like that mapping's keys."""
    depth = 0
    node = root
    for key in collection.path[:-1]:
        child = _child(node, key)
        if not isinstance(child, yaml.MappingNode):
            break
        node, depth = child, depth + 1
    missing = collection.path[depth:]
    if node is root:
        indent = root.value[0][0].start_mark.column if root.value else 0
    else:
        indent = node.value[0][0].start_mark.column if node.value else 0
    text = []
    for key in missing:
        text.append(" " * indent + f"{key}:\n")
        indent += 2
    for item in wanted.values():
        text += _item_text(_Region(0, len(item) - 1, 0), item, indent)
    end = _last_line(node, lines) + 1 if node.value else node.start_mark.line + 1
    if node is root:
        end = len(lines)
    return _Edit(end, end - 1, tuple(text))


def _fill_empty_key(collection, root, lines, wanted, path) -> list[_Edit]:
    """``write_files:`` with nothing after it: the items go right below the key."""
    parent, _ = _find(root, collection.path)
    key_node, _ = _child_pair(parent, collection.path[-1])
    line = key_node.start_mark.line
    if lines[line].rstrip().rstrip(":").strip() != collection.path[-1]:
        raise MergeRefused(f"{path}:{line + 1}: cannot place fwc's entries under "
                           f"`{collection.path[-1]}`; not merging")
    dash = key_node.start_mark.column + 2
    text = [out for item in wanted.values()
            for out in _item_text(_Region(0, len(item) - 1, 0), item, dash)]
    return [_Edit(line + 1, line, tuple(text))]


# --------------------------------------------------------------------------- verification


def _verify(existing: str, merged: str, generated: str, ownership: Ownership, path: str) -> None:
    """Load both files and prove the merge changed only fwc's entries, to what was compiled."""
    before, after, compiled = _load(existing), _load(merged), _load(generated)
    for collection in ownership.collections:
        wanted = {_value_identity(collection.kind, v): v
                  for v in _at(compiled, collection.path) or []}
        kept_after = _strip(after, collection, set(wanted) | collection.owned)
        kept_before = _strip(before, collection, set(wanted) | collection.owned)
        if kept_after != kept_before:
            raise MergeRefused(f"{path}: merging would change more than fwc's entries in "
                               f"`{'.'.join(collection.path)}`; nothing was written")
        got = {_value_identity(collection.kind, v): v for v in _at(after, collection.path) or []
               if _value_identity(collection.kind, v) in wanted}
        if (got if collection.kind != "value" else set(got)) != (
                wanted if collection.kind != "value" else set(wanted)):
            raise MergeRefused(f"{path}: the merged `{'.'.join(collection.path)}` entries do "
                               "not match the compiled ones; nothing was written")
    if _without_owned(before, ownership) != _without_owned(after, ownership):
        raise MergeRefused(f"{path}: merging would change more than fwc's entries; "
                           "nothing was written")


def _at(data, path):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, list) else None


def _value_identity(kind: str, value) -> str | None:
    if kind == "file":
        return _normal_path(value.get("path")) if isinstance(value, dict) else None
    if kind == "unit":
        return value.get("name") if isinstance(value, dict) else None
    if isinstance(value, str):
        return " ".join(shlex.split(value))
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return None


def _strip(data, collection: Collection, identities: set) -> list:
    return [v for v in _at(data, collection.path) or []
            if _value_identity(collection.kind, v) not in identities]


def _without_owned(data, ownership: Ownership):
    """The document with fwc's collections removed (and mappings they alone created)."""
    if not isinstance(data, dict):
        return data
    result = _copy(data)
    for collection in ownership.collections:
        _drop(result, collection.path)
    return result


def _copy(data):
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _drop(data: dict, path: tuple[str, ...]) -> None:
    node = data
    trail: list[tuple[dict, str]] = []
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            return
        trail.append((node, key))
        node = child
    node.pop(path[-1], None)
    for parent, key in reversed(trail):  # a mapping fwc's list was alone in
        if parent[key] == {}:
            parent.pop(key)

