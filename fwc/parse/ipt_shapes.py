"""Shape templates: read a rule by substituting values into an earlier rule of the same shape.

Large dumps (a Kubernetes node's kube-proxy rules) repeat a few dozen rule *shapes*
with different values: the same options, modules and targets, other addresses, chain
names and comments. The first rule of a shape is read by the full interpreter; its
result becomes a template that records, for every condition, which words it came from
and how to rebuild it. A later rule of the same shape is read by re-validating only its
values and rebuilding the conditions from them, skipping option lookup and the
extension checks (which depend on the shape only).

Whenever something might differ from what the full interpreter would do (a value that
fails validation, an address with host bits, a canonicalised target, a changed word
the template cannot rebuild) the template gives up and the full interpreter reads the
line; a test checks both give the same rules, spans included.
"""

from __future__ import annotations

import re
from itertools import compress
from operator import ne

from ..model import Addr, Fragment, Icmp, Iface, Opaque, Ports, Proto, Rate, State, TcpFlags, Target
from ..source import Span
from ._fastnew import maker
from . import ipt_values as V
from .ipt_extensions import OTHER_TARGETS, TARGETS, validate_value

# Words whose following word decides how the rest of the line is read.
_KEEP_NEXT = frozenset({"-m", "--match", "-p", "--protocol", "-j", "--jump", "-g", "--goto"})
_JUMPS = frozenset({"-j", "--jump", "-g", "--goto"})


def shape_key(words: list) -> tuple | None:
    """The line's shape: its option words, with the values that do not change how the
    line is read (addresses, ports, chain names, comments) left out."""
    key = []
    keep = jump = False
    for text, _, _ in words:
        if keep:
            if jump and text not in TARGETS and text not in OTHER_TARGETS:
                key.append("<chain>")
            else:
                key.append(text)
            keep = False
        elif text[:1] == "-" or text == "!":
            key.append(text)
            if text in _KEEP_NEXT:
                keep = True
                jump = text in _JUMPS
        else:
            key.append(None)
    return tuple(key)


class GiveUp(Exception):
    """The template cannot read this line; the full interpreter must."""


_GIVE_UP = GiveUp()


def _rebuild_proto(words, a, b, cond, family, span):
    return _NEW[Proto](V.parse_protocol(words[b]), cond.negated, cond.module, span)


def _rebuild_addr(words, a, b, cond, family, span):
    text = words[b]
    if cond.module == "iprange":
        return _NEW[Addr](cond.field, V.parse_address_range(text, family), cond.negated, cond.module, span)
    if "," in text:
        raise _GIVE_UP
    net, warning = V.parse_address(text, family)
    if warning or isinstance(net, V.Unmodelled):
        raise _GIVE_UP
    return _NEW[Addr](cond.field, net, cond.negated, None, span)


def _rebuild_iface(words, a, b, cond, family, span):
    return _NEW[Iface](cond.field, V.parse_interface(words[b]), cond.negated, cond.module, span)


def _rebuild_ports(words, a, b, cond, family, span):
    if cond.module == "multiport":
        return _NEW[Ports](cond.field, V.parse_multiport(words[b]), cond.negated, cond.module, span)
    return _NEW[Ports](cond.field, (V.parse_port_range(words[b]),), cond.negated, cond.module, span)


def _rebuild_state(words, a, b, cond, family, span):
    allowed = V.CT_STATES if cond.module == "conntrack" else V.STATE_STATES
    return _NEW[State](V.parse_states(words[b], allowed), cond.negated, cond.module, span)


def _rebuild_icmp(words, a, b, cond, family, span):
    type_, code = V.parse_icmp_type(words[b], cond.version)
    return _NEW[Icmp](cond.version, type_, code, cond.negated, cond.module, span)


def _rebuild_flags(words, a, b, cond, family, span):
    if b - a < 2:
        raise _GIVE_UP
    return _NEW[TcpFlags](V.parse_tcp_flags(words[b - 1]), V.parse_tcp_flags(words[b]), cond.negated,
                    cond.module, span)


_REBUILD = {Proto: _rebuild_proto, Addr: _rebuild_addr, Iface: _rebuild_iface,
            Ports: _rebuild_ports, State: _rebuild_state, Icmp: _rebuild_icmp,
            TcpFlags: _rebuild_flags}


class _CondEntry:
    """How to rebuild one condition: the words it spans and what to do when they change."""

    __slots__ = ("cond", "a", "b", "mode", "first", "cls", "make", "fields")

    def __init__(self, cond, a: int, b: int, mode: str, first: int):
        # mode: "rebuild" (typed condition), "args" (Opaque whose args are words[first:b+1]),
        # "fixed" (must not change), "chain" (a jump: the target is the chain's name).
        self.cond, self.a, self.b, self.mode, self.first = cond, a, b, mode, first
        # The condition's fields but its span, to copy it with another span quickly.
        self.cls = type(cond)
        self.make = _NEW[type(cond)]
        self.fields = tuple(getattr(cond, f) for f in _FIELDS[type(cond)])


class Template:
    def __init__(self, words: list, parsed, target_span, checked: dict, finals: list,
                 family: int, key: tuple = (), line: str = ""):
        self.texts = [w[0] for w in words]
        self.family = family
        self.checked = checked          # word index -> (Opt, parsed value)
        self.finals = finals            # (Ext, [(option, word index)]) with final checks
        starts = {w[1]: i for i, w in enumerate(words)}
        ends = {w[2]: i for i, w in enumerate(words)}
        self.chain_index = 1
        self.entries = [self._entry(c, starts, ends) for c in parsed.conds]
        self.comment_index = None
        if parsed.comment is not None:
            self.comment_index = self._comment_index(parsed.comment)
        self.target = parsed.target
        self.target_entry = None
        self.target_name_index = None
        if parsed.target is not None:
            self._target_entry(parsed.target, target_span, starts, ends)
        # For every word, the index of the condition it belongs to (-1: none).
        self.owner = [-1] * len(words)
        for index, entry in enumerate(self.entries):
            for j in range(entry.a, entry.b + 1):
                self.owner[j] = index
        self.regex, self.chain_word = self._regex(words, key, line)
        # The words that may differ between rules of this shape (values; ascending).
        self.variable = tuple(j for j, k in enumerate(key) if k is None or k == "<chain>")

    def _regex(self, words: list, key: tuple, line: str):
        """One regular expression matching the lines of this shape written the way
        iptables-save writes them (one space between words, values plain or in double
        quotes without escapes), every word a group; None for other lines."""
        if "\t" in line or "\\" in line or not words or words[0][1] != 0 \
                or words[-1][2] != len(line):
            return None, None
        parts = []
        chain_word = None
        for j, (text, start, end) in enumerate(words):
            if j and line[words[j - 1][2]:start] != " ":
                return None, None
            raw = line[start:end]
            if key[j] is None or key[j] == "<chain>":
                if raw != text and raw != f'"{text}"':
                    return None, None
                parts.append(_VALUE)
                if key[j] == "<chain>":
                    chain_word = j
            else:
                if raw != text:
                    return None, None
                parts.append("(" + re.escape(text) + ")")
        return re.compile(" ".join(parts)), chain_word

    # ----------------------------------------------------------------- building

    def _range(self, span: Span, starts, ends) -> tuple[int, int]:
        a = starts.get(span.col - 1)
        b = ends.get(span.end_col - 1)
        if a is None or b is None:
            raise _GIVE_UP
        return a, b

    def _entry(self, cond, starts, ends) -> _CondEntry:
        if isinstance(cond, tuple) or cond.span is None:
            raise _GIVE_UP
        a, b = self._range(cond.span, starts, ends)
        kind = type(cond)
        if kind in _REBUILD:
            return _CondEntry(cond, a, b, "rebuild", a)
        if kind is Opaque and cond.module:
            first = a + 2 if self.texts[a] in ("-m", "--match") else a
            if self.texts[a] == "!" and self.texts[a + 1] in ("-m", "--match"):
                first = a + 3
            if tuple(self.texts[first:b + 1]) == cond.args and all(
                    self.texts[j][:1] == "-" or j in self.checked or not cond.known
                    or self.texts[j] == "!" for j in range(first, b + 1)):
                return _CondEntry(cond, a, b, "args", first)
        return _CondEntry(cond, a, b, "fixed", a)

    def _comment_index(self, comment: str) -> int:
        for j in range(1, len(self.texts)):
            if self.texts[j - 1] == "--comment" and self.texts[j] == comment:
                return j
        raise _GIVE_UP

    def _target_entry(self, target: Target, target_span, starts, ends) -> None:
        if target.span is None or target_span is None:
            raise _GIVE_UP
        a, b = self._range(target.span, starts, ends)
        name_index = starts.get(target_span[0])
        if name_index is None:
            raise _GIVE_UP
        self.target_name_index = name_index
        known = target.name in TARGETS
        first = name_index + 1
        if target.name == "REJECT" or (target.args and tuple(self.texts[first:b + 1]) != target.args):
            mode = "fixed"
        elif known or target.name in OTHER_TARGETS:
            mode = "args"
        else:
            mode = "chain"
        self.target_entry = _CondEntry(target, a, b, mode, first)

    # ----------------------------------------------------------------- reading

    def apply(self, words: list, path: str, line: int) -> tuple:
        """(chain, conds, target, comment, target span) for a line of this shape."""
        starts = [w[1] for w in words]
        ends = [w[2] for w in words]
        return self._apply([w[0] for w in words], starts.__getitem__, ends.__getitem__, 0,
                           path, line)

    def apply_match(self, m, path: str, line: int) -> tuple:
        """Like apply, for a line this template's regular expression matched (word j is
        group j + 1)."""
        texts = list(m.groups())
        for j in self.variable:
            text = texts[j]
            if text[:1] == '"':
                text = texts[j] = text[1:-1]
                if text[:1] == "-" or text == "!":
                    raise _GIVE_UP  # the split words would give another shape
        if self.chain_word is not None and texts[self.chain_word] in _TARGET_NAMES:
            raise _GIVE_UP
        return self._apply(texts, m.start, m.end, 1, path, line)

    def _apply(self, texts: list, start_of, end_of, shift: int, path: str, line: int) -> tuple:
        old = self.texts
        # The words that differ from the template's: only values can (the shape fixes
        # every other word).
        variable = self.variable
        diff = list(compress(variable, map(ne, map(texts.__getitem__, variable),
                                           map(old.__getitem__, variable))))
        family = self.family
        if diff:
            checked = self.checked
            for j in checked.keys() & diff:
                opt, parsed = checked[j]
                value = validate_value(opt, texts[j], family)
                if opt.type == "nat" and bool(value) != bool(parsed):
                    raise _GIVE_UP
                if opt.type == "addr" and value[1]:
                    raise _GIVE_UP
            for ext, options in self.finals:
                seen = {name: texts[j] if j >= 0 else "" for name, j in options}
                if ext.final(seen):
                    raise _GIVE_UP
            dirty = set(map(self.owner.__getitem__, diff))
        else:
            dirty = ()
        conds = []
        new_span = _NEW_SPAN
        for index, entry in enumerate(self.entries):
            a, b = entry.a, entry.b
            span = new_span(path, line, start_of(a + shift) + 1, line, end_of(b + shift) + 1)
            if index not in dirty:
                conds.append(entry.make(*entry.fields, span))
            elif entry.mode == "rebuild":
                conds.append(_REBUILD[entry.cls](texts, a, b, entry.cond, family, span))
            elif entry.mode == "args":
                cond = entry.cond
                conds.append(_NEW_OPAQUE(cond.module, tuple(texts[entry.first:b + 1]),
                                         cond.negated, cond.known, span))
            else:
                raise _GIVE_UP
        comment = texts[self.comment_index] if self.comment_index is not None else None
        target = target_span = None
        entry = self.target_entry
        if entry is not None:
            a, b = entry.a, entry.b
            cond = entry.cond
            span = new_span(path, line, start_of(a + shift) + 1, line, end_of(b + shift) + 1)
            name = self.target_name_index
            target_span = (start_of(name + shift), end_of(name + shift))
            if not diff or diff[-1] < a or diff[0] > b or texts[a:b + 1] == old[a:b + 1]:
                target = _NEW_TARGET(cond.name, cond.args, cond.goto, span)
            elif entry.mode == "chain":
                target = _NEW_TARGET(texts[name], (), cond.goto, span)
            elif entry.mode == "args" and texts[name] == cond.name:
                target = _NEW_TARGET(cond.name, tuple(texts[entry.first:b + 1]), cond.goto, span)
            else:
                raise _GIVE_UP
        return texts[self.chain_index], conds, target, comment, target_span


_FIELDS = {
    Proto: ("name", "negated", "module"), Addr: ("field", "value", "negated", "module"),
    Iface: ("field", "name", "negated", "module"), Ports: ("field", "ranges", "negated", "module"),
    State: ("states", "negated", "module"), Icmp: ("version", "type", "code", "negated", "module"),
    TcpFlags: ("mask", "comp", "negated", "module"), Rate: ("options", "negated", "module"),
    Fragment: ("negated", "module"), Opaque: ("module", "args", "negated", "known"),
    Target: ("name", "args", "goto"),
}

_NEW = {cls: maker(cls) for cls in (Proto, Addr, Iface, Ports, State, Icmp, TcpFlags, Rate,
                                    Fragment, Opaque, Target)}
_NEW_SPAN = maker(Span)
_NEW_TARGET = _NEW[Target]
_NEW_OPAQUE = _NEW[Opaque]
_TARGET_NAMES = frozenset(TARGETS) | OTHER_TARGETS
# A value word: plain, or in double quotes without escapes; never an option or a "!".
_VALUE = r'((?![-!])(?:"[^"\\\n]*"|[^ "\t\\\n]+))'
