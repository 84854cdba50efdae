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

from ..model import (Addr, Fragment, Icmp, Iface, Match, Opaque, Ports, Proto, Rate, Rule, State,
                     TcpFlags, Target)
from ..source import Span
from ._fastnew import maker
from . import ipt_values as V
from .ipt_extensions import OTHER_TARGETS, TARGETS, VALUE_TYPES

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


def _host_address(text: str, family: int):
    """An -s/-d value's network, as _rebuild_addr finds it (without the condition)."""
    if "," in text:
        raise _GIVE_UP
    net, warning = _parse_address(text, family)
    if warning or isinstance(net, _Unmodelled):
        raise _GIVE_UP
    return net


_parse_address, _Unmodelled = V.parse_address, V.Unmodelled


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
        # The words that may differ between rules of this shape (values; ascending).
        self.variable = tuple(j for j, k in enumerate(key) if k is None or k == "<chain>")
        # The generated function and the expression are built by prepare(), on the
        # shape's second rule: a dump has many shapes that occur once.
        self._run = None
        self.regex = self.chain_word = None
        self._shape = (words, key, line)

    def prepare(self) -> None:
        if self._run is not None:
            return
        try:
            self._run = self._compile(matched=False)
        except SyntaxError:
            raise _GIVE_UP from None
        self.regex, self.chain_word = self._regex(*self._shape)
        if self.regex is not None:
            self.take = self._compile(matched=True)

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

    def apply(self, words: list, path: str, line: int, text: str, counters) -> tuple:
        """(chain, rule, target span) for a line of this shape, its words split."""
        if self._run is None:
            self.prepare()
        regs = [(0, len(text))]  # word j's (start, end) is regs[j + 1], as in a match
        regs += [(w[1], w[2]) for w in words]
        return self._run([w[0] for w in words], regs, path, line, text, counters)

    # take(m, path, line, text): the same for a line this template's regular expression
    # matched (word j is group j + 1); set by prepare() when the shape has an expression.
    take = None

    def _compile(self, *, matched: bool):
        """This shape's reading as one generated function, from the words (``matched``
        False: ``run(texts, regs, path, line, text, counters)``) or from a match of its
        regular expression (True: ``take(m, path, line, text)``) to the rule: for each
        condition, copy it with a new span when its value words are the template's, else
        rebuild it from the new words (a shape has a dozen rules to thousands, so the
        loops over conditions and words are unrolled once)."""
        variable = self.variable
        ns = {"GIVE_UP": _GIVE_UP, "SPAN": _NEW_SPAN, "TARGET": _NEW_TARGET,
              "OPAQUE": _NEW_OPAQUE, "RULE": _NEW_RULE, "MATCH": _NEW_MATCH,
              "FAMILY": self.family, "FINALS": self.finals, "TARGET_NAMES": _TARGET_NAMES}
        if matched:
            code = ["def take(m, path, line, text):",
                    "    texts = list(m.groups())",
                    "    regs = m.regs"]
            for j in variable:
                # A value in double quotes: its text; one that would split as an option
                # or a "!" gives another shape.
                code += [f"    t = texts[{j}]",
                         "    if t[0] == '\"':  # a matched value is never empty",
                         f"        t = texts[{j}] = t[1:-1]",
                         "        if t[:1] == '-' or t == '!': raise GIVE_UP"]
            if self.chain_word is not None:
                code.append(f"    if texts[{self.chain_word}] in TARGET_NAMES: raise GIVE_UP")
        else:
            code = ["def run(texts, regs, path, line, text, counters):"]
        for j in variable:
            ns[f"O{j}"] = self.texts[j]
            code.append(f"    c{j} = texts[{j}] != O{j}")
        for j, (opt, parsed) in self.checked.items():
            if j not in variable:
                continue  # words the shape fixes never change
            ns[f"P{j}"] = parsed
            limit = _STRING_LIMIT.fullmatch(opt.type)
            if limit:
                # A string's only check is its length (as VALUE_TYPES' strN does); one
                # that is too long goes to the full interpreter, which reports it.
                code.append(f"    if c{j} and len(texts[{j}]) > {int(limit.group(1))}: raise GIVE_UP")
                continue
            # validate_value's parser for the type, called directly.
            check = ns[f"V{j}"] = VALUE_TYPES[opt.type]
            family = ", FAMILY" if getattr(check, "needs_family", False) else ""
            code += [f"    if c{j}:", f"        v = V{j}(texts[{j}]{family})"]
            if opt.type == "nat":
                code.append(f"        if bool(v) != bool(P{j}): raise GIVE_UP")
            if opt.type == "addr":
                code.append("        if v[1]: raise GIVE_UP")
        final_words = sorted({j for _, options in self.finals for _, j in options} & set(variable))
        if self.finals and final_words:
            # The final checks read the options' values only: run when one changed.
            code += [f"    if {' or '.join(f'c{j}' for j in final_words)}:",
                     "        for ext, options in FINALS:",
                     "            if ext.final({n: texts[j] if j >= 0 else '' for n, j in options}):",
                     "                raise GIVE_UP"]
        names = []
        def const(name: str, value) -> str:
            """A value in the generated code: a literal when it is one, else a global."""
            if value is None or type(value) in (str, bool, int):
                return repr(value)
            ns[name] = value
            return name

        for i, entry in enumerate(self.entries):
            ns[f"M{i}"], ns[f"C{i}"] = entry.make, entry.cond
            code.append(f"    s = SPAN(path, line, regs[{entry.a + 1}][0] + 1, line, "
                        f"regs[{entry.b + 1}][1] + 1)")
            fields = [const(f"F{i}_{n}", value) for n, value in enumerate(entry.fields)]
            same = f"M{i}({', '.join(fields)}, s)"
            if entry.mode == "rebuild" and entry.cls is Addr and entry.cond.module is None:
                # Addr(field, value, negated, module None): the value from the new word.
                ns["HOST"] = _host_address
                other = f"M{i}({fields[0]}, HOST(texts[{entry.b}], FAMILY), {fields[2]}, None, s)"
            elif entry.mode == "rebuild":
                ns[f"R{i}"] = _REBUILD[entry.cls]
                other = f"R{i}(texts, {entry.a}, {entry.b}, C{i}, FAMILY, s)"
            elif entry.mode == "args":
                cond = entry.cond
                other = (f"OPAQUE({const(f'MOD{i}', cond.module)}, "
                         f"tuple(texts[{entry.first}:{entry.b + 1}]), "
                         f"{const(f'NEG{i}', cond.negated)}, {const(f'KNOWN{i}', cond.known)}, s)")
            else:
                other = None
            code += self._choose(f"k{i}", entry, same, other)
            names.append(f"k{i}")
        comment = f"texts[{self.comment_index}]" if self.comment_index is not None else "None"
        entry = self.target_entry
        if entry is None:
            code.append("    target = target_span = None")
        else:
            ns["TC"] = entry.cond
            name = self.target_name_index
            code += [f"    s = SPAN(path, line, regs[{entry.a + 1}][0] + 1, line, "
                     f"regs[{entry.b + 1}][1] + 1)",
                     f"    target_span = regs[{name + 1}]"]
            tname, targs = const("TNAME", entry.cond.name), const("TARGS", entry.cond.args)
            goto = const("TGOTO", entry.cond.goto)
            other = {"chain": f"TARGET(texts[{name}], (), {goto}, s)",
                     "args": f"TARGET({tname}, tuple(texts[{entry.first}:{entry.b + 1}]), {goto}, s)"
                     }.get(entry.mode)
            code += self._choose("target", entry, f"TARGET({tname}, {targs}, {goto}, s)", other)
        conds = "".join(f"{name}, " for name in names)  # a tuple: the Match keeps it as is
        chain = f"texts[{self.chain_index}]"
        counters = "None" if matched else "counters"  # a matched line has no counters
        code.append(f"    return {chain}, RULE({chain}, MATCH(({conds})), target, {comment}, "
                    f"SPAN(path, line, 1, line, len(text) + 1), {counters}, text), target_span")
        exec("\n".join(code), ns)  # noqa: S102 - generated from this template's own fields
        return ns["take" if matched else "run"]

    def _choose(self, var: str, entry, same: str, other: str | None) -> list[str]:
        """``var = same`` when the entry's value words are unchanged, else ``other``
        (or give up when the entry cannot be rebuilt)."""
        changed = [f"c{j}" for j in self.variable if entry.a <= j <= entry.b]
        if not changed:
            return [f"    {var} = {same}"]
        test = " or ".join(changed)
        if other is None:
            return [f"    if {test}: raise GIVE_UP", f"    {var} = {same}"]
        return [f"    {var} = {other} if {test} else {same}"]


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
_NEW_SPAN, _NEW_RULE, _NEW_MATCH = maker(Span), maker(Rule), maker(Match)
_NEW_TARGET = _NEW[Target]
_NEW_OPAQUE = _NEW[Opaque]
_TARGET_NAMES = frozenset(TARGETS) | OTHER_TARGETS
# Option types that are strings of at most N characters (ipt_extensions' strN).
_STRING_LIMIT = re.compile(r"str([0-9]+)")
# A value word: plain, or in double quotes without escapes; never an option or a "!".
_VALUE = r'((?![-!])(?:"[^"\\\n]*"|[^ "\t\\\n]+))'
