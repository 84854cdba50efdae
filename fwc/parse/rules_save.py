"""The iptables-save / iptables-restore reader: text -> :class:`~fwc.model.Ruleset`.

The file is read line by line, as iptables-restore reads it, so one bad line gives one
diagnostic and the rest of the file is still read. The line structure is defined by
``grammar/iptables_save.lark``; well-formed lines are split by one compiled regular
expression (the fast path, same words), and any line the fast path cannot split is
handed to the Lark parser, whose errors become FW001 findings in words. The words of a
command are then interpreted with the option tables of :mod:`fwc.parse.ipt_extensions`
and lowered into typed conditions.

Conventions the rest of fwc relies on:

* a base option value iptables accepts but the model cannot hold (a DNS name, a
  non-contiguous mask) is kept as ``Opaque("", ("-s", VALUE))``: no module, known=False;
* the first ``-m comment`` becomes ``Rule.comment``, later ones stay ``Opaque`` conditions;
* REJECT always carries its ``--reject-with`` (iptables-save prints the default);
* a comma-separated ``-s``/``-d`` becomes one rule per address, as iptables does.

Large dumps are read through shape templates (:mod:`fwc.parse.ipt_shapes`); the
cyclic garbage collector is paused while reading (the model has no cycles).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from itertools import accumulate, count
from itertools import chain as chain_all
from operator import add, itemgetter, sub
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, Related, Severity
from ..document import Comment
from ..model import (BUILTIN_CHAINS, Addr, Chain, Fragment, Iface, Match, Opaque, Proto, Rule,
                     Ruleset, Table, Target)
from ..source import LineMap, Span
from . import ipt_values as V
from .grammar import lark_parser
from .ipt_extensions import (MATCHES, OTHER_MATCHES, OTHER_TARGETS, TARGET_PLACES, Ext, Opt,
                             match_ext, target_ext, validate_value)
from ..gcpause import collector_paused
from .ipt_lower import comment_of, lower_module, lower_target_args
from ._fastnew import maker
from .ipt_shapes import GiveUp, Template, shape_key

if TYPE_CHECKING:
    from lark.exceptions import UnexpectedInput

__all__ = ["RulesRead", "read_rules", "parse_rule", "detect_family", "split_words"]

_NEW_SPAN = maker(Span)
_NEW_CHAIN = maker(Chain)


@dataclass
class RulesRead:
    ruleset: Ruleset
    diagnostics: list[Diagnostic] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)


class LineError(Exception):
    """The one problem of a line: code, 0-based column range, message, optional help."""

    def __init__(self, code: str, start: int, end: int, message: str, help: str | None = None):
        super().__init__(message)
        self.code, self.start, self.end, self.message, self.help = code, start, end, message, help


# --------------------------------------------------------------------------- words

_PLAIN_WORD = re.compile(r"[^ \t\n]+")
_WORD = re.compile(r'[^ \t\n"]*"(?:\\.|[^"\\])*"|[^ \t\n"]+')
_ESCAPE = re.compile(r"\\(.)")
_RULE_COUNTERS = re.compile(r"\[([0-9]+):([0-9]+)\]")
_CHAIN_COUNTERS = re.compile(r"\[[0-9]+:[0-9]+\]$")

Word = tuple  # (text, start, end): 0-based columns in the line, end exclusive


def _unquote(raw: str) -> str:
    """``pre"quoted"`` -> pre + quoted with backslash escapes resolved."""
    quote = raw.index('"')
    return raw[:quote] + _ESCAPE.sub(r"\1", raw[quote + 1:-1])


def split_words(line: str, start: int = 0) -> list[Word] | None:
    """Split a command line into words like iptables-restore; None when the line has
    an unterminated quote (the Lark parser then reports it).

    The common cases (no tabs, no backslashes) are split with str.split, the others
    with one regular expression; both give the same words (a test checks it)."""
    if "\t" in line or "\\" in line:
        return split_words_regex(line, start)
    if '"' not in line:
        return _split_plain(line, start, start, [])
    parts = line[start:].split('"')
    if not len(parts) % 2:
        return None
    words: list[Word] = []
    pos = start
    last = len(parts) - 1
    for k, part in enumerate(parts):
        if k % 2 == 0:
            _split_plain(part, 0, pos, words)
            if k < last:
                # A word glued to the opening quote is the quoted word's prefix.
                if part and part[-1] != " ":
                    prefix, pstart, _ = words.pop()
                else:
                    prefix, pstart = "", pos + len(part)
        else:
            end = pos + len(part) + 1
            words.append((prefix + part, pstart, end))
        pos += len(part) + 1
    return words


def _split_plain(text: str, begin: int, offset: int, out: list) -> list:
    """Words of ``text[begin:]`` (no quotes, no tabs), columns shifted by ``offset``."""
    pieces = (text[begin:] if begin else text).split(" ")
    # The text between quotes usually starts or ends with the one space around them.
    if pieces[-1] == "":
        pieces.pop()
    if pieces and pieces[0] == "":
        del pieces[0]
        offset += 1
    if "" not in pieces:
        # One space between words (iptables-save's own output): columns in C loops.
        lengths = list(map(len, pieces))
        ends = list(map(add, accumulate(lengths), count(offset)))
        out.extend(zip(pieces, map(sub, ends, lengths), ends))
        return out
    pos = offset
    for piece in pieces:
        if piece:
            end = pos + len(piece)
            out.append((piece, pos, end))
            pos = end + 1
        else:
            pos += 1
    return out


def split_words_regex(line: str, start: int = 0) -> list[Word] | None:
    """The reference splitter: one regular expression per word."""
    if '"' not in line:
        return [(m.group(), m.start(), m.end()) for m in _PLAIN_WORD.finditer(line, start)]
    words = []
    pos = start
    for m in _WORD.finditer(line, start):
        if line[pos:m.start()].strip(" \t"):
            return None
        raw = m.group()
        words.append((_unquote(raw) if '"' in raw else raw, m.start(), m.end()))
        pos = m.end()
    if line[pos:].strip(" \t\n"):
        return None
    return words


def lark_words(line: str) -> tuple[tuple[str, str] | None, list[Word]]:
    """Split a command line with the grammar (the slow path). Raises LineError on a
    syntax error. Returns (counters or None, words)."""
    from lark.exceptions import UnexpectedInput  # the slow path only

    parser = lark_parser("iptables_save.lark", start="rule_line")
    try:
        tree = parser.parse(line)
    except UnexpectedInput as exc:
        raise _lark_error(line, exc) from None
    counters = None
    words = []
    for tok in tree.children:
        start = tok.column - 1
        end = tok.end_column - 1
        if tok.type == "RULE_COUNTERS":
            m = _RULE_COUNTERS.fullmatch(str(tok))
            counters = (m.group(1), m.group(2))
        elif tok.type == "QUOTED":
            words.append((_unquote(str(tok)), start, end))
        else:
            words.append((str(tok), start, end))
    return counters, words


_TERMINAL_WORDS = {
    "WORD": "a word", "QUOTED": "a quoted string", "RULE_COUNTERS": "counters [packets:bytes]",
    "TABLE_NAME": "a table name", "CHAIN_NAME": "a chain name", "POLICY": "a policy (ACCEPT or DROP)",
    "CHAIN_COUNTERS": "counters [packets:bytes]", "EXTRA": "a word", "$END": "the end of the line",
    "STAR": "'*'", "COLON": "':'",
}


def _lark_error(line: str, exc: UnexpectedInput) -> LineError:
    col = max(getattr(exc, "column", 1) or 1, 1) - 1
    if col < len(line) and line[col] == '"':
        return LineError("FW001", col, len(line),
                         "unterminated quote: this double quote is never closed",
                         help='close the quoted text with " (inside it, write \\" for a quote)')
    expected = sorted(_TERMINAL_WORDS.get(t, t) for t in (getattr(exc, "expected", None) or
                                                          getattr(exc, "allowed", None) or ()))
    what = f"expected {' or '.join(dict.fromkeys(expected))}" if expected else "unexpected text"
    return LineError("FW001", col, col + 1, f"syntax error: {what}")


# --------------------------------------------------------------------------- options

# Base options of iptables: canonical name -> (spellings, takes a value).
_BASE = {
    "source": (("-s", "--source", "--src"), True),
    "destination": (("-d", "--destination", "--dst"), True),
    "protocol": (("-p", "--protocol"), True),
    "in-interface": (("-i", "--in-interface"), True),
    "out-interface": (("-o", "--out-interface"), True),
    "fragment": (("-f", "--fragment"), False),
    "match": (("-m", "--match"), True),
    "jump": (("-j", "--jump"), True),
    "goto": (("-g", "--goto"), True),
    "set-counters": (("-c", "--set-counters"), True),
    "ipv4": (("-4", "--ipv4"), False),
    "ipv6": (("-6", "--ipv6"), False),
    "wait": (("-w", "--wait"), False),
    "verbose": (("-v", "--verbose"), False),
    "numeric": (("-n", "--numeric"), False),
    "exact": (("-x", "--exact"), False),
}
BASE_OPTIONS = {spelling: name for name, (spellings, _) in _BASE.items() for spelling in spellings}
_BASE_LONG = {s[2:]: name for s, name in BASE_OPTIONS.items() if s.startswith("--")}
# Base options whose --name=value spelling iptables 1.8.9 refuses (it takes the whole
# word as the value).
_NO_EQUALS = frozenset({"source", "destination", "protocol", "in-interface", "out-interface"})

_COMMANDS = {
    "-A": "append", "--append": "append", "-I": "insert", "--insert": "insert",
    "-D": "delete", "--delete": "delete", "-R": "replace", "--replace": "replace",
    "-P": "policy", "--policy": "policy", "-N": "new-chain", "--new-chain": "new-chain",
    "-F": "flush", "--flush": "flush", "-X": "delete-chain", "--delete-chain": "delete-chain",
    "-Z": "zero", "--zero": "zero", "-E": "rename-chain", "--rename-chain": "rename-chain",
    "-C": "check", "--check": "check",
}
_PORT_OPTION_NAMES = frozenset({"sport", "dport", "source-port", "destination-port", "sports",
                                "dports", "ports", "source-ports", "destination-ports"})
_PROTO_MODULES = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "ipv6-icmp": "icmp6",
                  "sctp": "sctp", "dccp": "dccp", "udplite": "udplite", "esp": "esp", "ah": "ah"}
_PORT_PROTOS = frozenset({"tcp", "udp", "udplite", "sctp", "dccp"})


class _Module:
    """One ``-m NAME`` (or implicit protocol match) of the rule being read."""

    __slots__ = ("name", "ext", "start", "end", "seen", "items", "raw", "pos")

    def __init__(self, name: str, ext: Ext | None, start: int, end: int, pos: int):
        self.name, self.ext, self.start, self.end, self.pos = name, ext, start, end, pos
        self.seen: dict[str, str] = {}
        # (canonical option, negated, values, parsed, start col, end col, word index)
        self.items: list[tuple] = []
        self.raw: list[str] = []  # unknown module: its words verbatim


@dataclass
class ParsedRule:
    """A rule's parts before it is placed: conditions (a tuple among them lists the
    alternatives of a comma-separated -s/-d, which iptables expands into one rule each)."""

    chain: str
    conds: list
    target: Target | None
    comment: str | None


@dataclass
class Command:
    """A parsed command line: what to do with the ruleset."""

    action: str
    chain: str | None = None
    chain_span: tuple[int, int] = (0, 0)
    rule: ParsedRule | None = None
    number: int | None = None
    args: tuple[str, ...] = ()
    target_span: tuple[int, int] | None = None


class _RuleReader:
    """Interprets the words of one command line (after any counters)."""

    def __init__(self, words: list[Word], family: int, line: str, make_span):
        self.words, self.family, self.line = words, family, line
        self._span = make_span
        self.warnings: list[tuple[str, int, int, str]] = []
        # For shape templates: word index -> (option, parsed value) of every validated
        # option value, and whether the line can serve as a template at all.
        self.checked: dict[int, tuple] = {}
        self.templatable = True

    # ----------------------------------------------------------------- commands

    def command(self) -> Command:
        words = self.words
        if not words:
            raise LineError("FW001", 0, max(len(self.line), 1),
                            "a line with only white space: iptables-restore fails on it",
                            help="delete the white space (an empty line is fine)")
        first, start, end = words[0]
        name, _, inline = first.partition("=") if first.startswith("--") else (first, "", "")
        action = _COMMANDS.get(name)
        if action is None:
            if first == "#" or first.startswith("#"):
                raise LineError("FW001", start, len(self.line),
                                "a comment must start at the beginning of its line",
                                help="move '#' to the first column")
            raise LineError("FW001", start, end, f"expected a command such as -A CHAIN, found {first!r}")
        rest = 1
        if inline:
            args = [(inline, start + len(name) + 1, end)]
        else:
            args = []
        while rest < len(words) and words[rest][0] != "!" and not _is_option(words[rest][0]) \
                and len(args) < 3:
            args.append(words[rest])
            rest += 1
        return getattr(self, "_cmd_" + action.replace("-", "_"))(action, (first, start, end), args, rest)

    def _need_chain(self, cmd_word: Word, args: list[Word]) -> Word:
        if not args:
            raise LineError("FW001", cmd_word[1], cmd_word[2], f"{cmd_word[0]} needs a chain name")
        return args[0]

    def _cmd_append(self, action, cmd_word, args, rest):
        chain = self._need_chain(cmd_word, args)
        if len(args) > 1:
            extra = args[1]
            hint = ("-A appends at the end and takes no rule number; use -I CHAIN N to insert "
                    "at a position" if extra[0].isdigit() else None)
            raise LineError("FW001", extra[1], extra[2], f"unexpected argument {extra[0]!r}", help=hint)
        return self._with_rule(action, chain, rest, None)

    def _cmd_check(self, action, cmd_word, args, rest):
        return self._cmd_append(action, cmd_word, args, rest)

    def _cmd_insert(self, action, cmd_word, args, rest):
        chain = self._need_chain(cmd_word, args)
        number = None
        if len(args) > 1:
            number = self._rule_number(args[1])
        if len(args) > 2:
            raise LineError("FW001", args[2][1], args[2][2], f"unexpected argument {args[2][0]!r}")
        return self._with_rule(action, chain, rest, number)

    def _cmd_replace(self, action, cmd_word, args, rest):
        chain = self._need_chain(cmd_word, args)
        if len(args) < 2:
            raise LineError("FW001", chain[1], chain[2], "-R needs a chain and a rule number")
        return self._with_rule(action, chain, rest, self._rule_number(args[1]))

    def _cmd_delete(self, action, cmd_word, args, rest):
        chain = self._need_chain(cmd_word, args)
        if len(args) > 1:
            return Command(action, chain[0], chain[1:], number=self._rule_number(args[1]))
        return self._with_rule(action, chain, rest, None)

    def _rule_number(self, word: Word) -> int:
        if not word[0].isdigit() or int(word[0]) == 0:
            raise LineError("FW008", word[1], word[2], f"invalid rule number {word[0]!r} (1 or more)")
        return int(word[0])

    def _chain_only(self, action, cmd_word, args, rest, *, needed: int, allowed: int):
        if len(args) < needed:
            raise LineError("FW001", cmd_word[1], cmd_word[2],
                            f"{cmd_word[0]} needs {'a chain name' if needed == 1 else 'two arguments'}")
        if len(args) > allowed or rest < len(self.words):
            extra = args[allowed] if len(args) > allowed else self.words[rest]
            raise LineError("FW001", extra[1], extra[2], f"unexpected argument {extra[0]!r}")
        chain = args[0] if args else (None, 0, 0)
        return Command(action, chain[0], chain[1:], args=tuple(a[0] for a in args[1:]))

    def _cmd_policy(self, action, cmd_word, args, rest):
        return self._chain_only(action, cmd_word, args, rest, needed=2, allowed=2)

    def _cmd_new_chain(self, action, cmd_word, args, rest):
        return self._chain_only(action, cmd_word, args, rest, needed=1, allowed=1)

    def _cmd_rename_chain(self, action, cmd_word, args, rest):
        return self._chain_only(action, cmd_word, args, rest, needed=2, allowed=2)

    def _cmd_flush(self, action, cmd_word, args, rest):
        return self._chain_only(action, cmd_word, args, rest, needed=0, allowed=1)

    def _cmd_delete_chain(self, action, cmd_word, args, rest):
        return self._chain_only(action, cmd_word, args, rest, needed=0, allowed=1)

    def _cmd_zero(self, action, cmd_word, args, rest):
        return self._chain_only(action, cmd_word, args, rest, needed=0, allowed=2)

    def _with_rule(self, action, chain: Word, rest: int, number: int | None) -> Command:
        rule, target_span = self.rule(chain[0], rest)
        return Command(action, chain[0], chain[1:], rule=rule, number=number, target_span=target_span)

    # ----------------------------------------------------------------- rule spec

    def rule(self, chain: str, i: int) -> tuple[Rule, tuple[int, int] | None]:
        words, n = self.words, len(self.words)
        self.conds: list[tuple[int, object]] = []
        self.modules: list[_Module] = []
        self.owners: dict[str, _Module] = {}
        self.seen_base: set[str] = set()
        self.proto: str | None = None
        self.proto_negated = False
        self.target: _Module | None = None
        self.target_word: Word | None = None
        self.goto = False
        self.comment: str | None = None
        self.counters = None
        negated_at = -1
        while i < n:
            text, start, end = words[i]
            if text == "!":
                if negated_at >= 0:
                    raise LineError("FW001", start, end, "multiple consecutive '!' are not allowed")
                negated_at = i
                i += 1
                if i == n:
                    raise LineError("FW001", start, end, "'!' must be followed by an option")
                continue
            if not _is_option(text):
                raise self._bad_argument(i)
            i = self._option(i, negated_at)
            negated_at = -1
        return self._finish(chain)

    def _bad_argument(self, i: int) -> LineError:
        text, start, end = self.words[i]
        help = None
        if text.startswith("#"):
            return LineError("FW001", start, len(self.line),
                             "iptables-restore has no end-of-line comments",
                             help="put the comment on its own line, or use -m comment --comment")
        if text.startswith("'") or text.endswith("'"):
            help = "iptables-restore only understands double quotes: write \"...\""
        return LineError("FW001", start, end, f"unexpected argument {text!r}", help=help)

    def _value(self, i: int, inline: str | None, option: str) -> tuple[str, int, int, int]:
        """The value of the option at word i: (text, start, end, next index)."""
        if inline is not None:
            text, start, end = self.words[i]
            return inline, start + text.index("=") + 1, end, i + 1
        if i + 1 >= len(self.words):
            text, start, end = self.words[i]
            raise LineError("FW001", start, end, f"option {option} requires an argument")
        value, start, end = self.words[i + 1]
        return value, start, end, i + 2

    def _option(self, i: int, negated_at: int) -> int:
        text = self.words[i][0]
        inline = None
        name = text
        long = text[:2] == "--"
        if long and "=" in text:
            name, inline = text.split("=", 1)
        if long:
            owner = self.owners.get(name[2:])
            if owner is not None:
                return self._module_option_value(owner, owner.ext.options[name[2:]], i, inline,
                                                 negated_at)
        base = BASE_OPTIONS.get(name)
        if base is None and long and self._implicit_module(name[2:]) is None:
            base = self._abbreviated_base(name[2:], i)
        if base is not None:
            if inline is not None and base in _NO_EQUALS:
                start, end = self.words[i][1:]
                raise LineError("FW001", start, end,
                                f"iptables 1.8.9 does not accept {name}={inline}: it reads the "
                                f"whole word as the value",
                                help=f"write '{name} {inline}'")
            return self._base_option(base, i, inline, negated_at)
        return self._extension_option(i, name[2:] if long else name, inline, negated_at)

    def _add_owner(self, mod: "_Module") -> None:
        """Options of a newly loaded module or target shadow earlier ones, as in iptables."""
        if mod.ext is not None:
            owners = self.owners
            for option in mod.ext.options:
                owners[option] = mod

    def _abbreviated_base(self, name: str, i: int) -> str | None:
        matches = {canon for long, canon in _BASE_LONG.items() if long.startswith(name)}
        if len(matches) != 1:
            return None
        others = self._extension_prefix(name)
        if others:
            start, end = self.words[i][1:]
            candidates = ", ".join(sorted({"--" + matches.pop()} | {"--" + m.ext.options[o].name
                                                                     for m, o in others}))
            raise LineError("FW009", start, end, f"option --{name} is ambiguous ({candidates})",
                            help="write the option in full")
        return matches.pop()

    def _base_option(self, base: str, i: int, inline: str | None, negated_at: int) -> int:
        text, start, end = self.words[i]
        negated = negated_at >= 0
        cstart = self.words[negated_at][1] if negated else start
        takes_value = _BASE[base][1]
        if base in ("match", "jump", "goto") and negated:
            what = "--match" if base == "match" else "-j" if base == "jump" else "-g"
            raise LineError("FW001", cstart, end, f"'!' cannot be used before {what}")
        if base in _ONCE:
            key = "target" if base == "jump" or base == "goto" else base
            if key in self.seen_base:
                raise LineError("FW001", start, end, f"{text} can be given only once in a rule")
            self.seen_base.add(key)
        if not takes_value:
            if base == "fragment":
                if self.family == 6:
                    raise LineError("FW011", start, end, "-f (fragments) exists only in IPv4 rules")
                self.conds.append((i, Fragment(negated, None, self._span(cstart, end))))
            return i + 1
        value, vstart, vend, nxt = self._value(i, inline, text)
        if value == "!" and inline is None:
            raise LineError("FW001", vstart, vend,
                            f"'!' goes before the option: write '! {text} VALUE'")
        if base == "set-counters":
            self.templatable = False
            if nxt >= len(self.words):
                raise LineError("FW001", start, end, f"{text} needs packets and bytes")
            nxt += 1
            return nxt
        _BASE_HANDLERS[base](self, i, value, vstart, vend, negated, cstart)
        return nxt

    def _base_source(self, i, value, vstart, vend, negated, cstart):
        self._address("src", i, value, vstart, vend, negated, cstart)

    def _base_destination(self, i, value, vstart, vend, negated, cstart):
        self._address("dst", i, value, vstart, vend, negated, cstart)

    def _address(self, field_, i, value, vstart, vend, negated, cstart):
        values = []
        for item in value.split(","):
            try:
                net, warning = V.parse_address(item, self.family)
            except V.BadValue as exc:
                raise LineError(exc.code, vstart, vend, str(exc), help=exc.help) from None
            if warning:
                self.warnings.append(("FW010", vstart, vend, warning))
            if isinstance(net, V.Unmodelled):
                values.append(Opaque("", ("-s" if field_ == "src" else "-d", str(net)), negated,
                                     False, self._span(cstart, vend)))
            else:
                values.append(Addr(field_, net, negated, None, self._span(cstart, vend)))
        self.conds.append((i, values[0] if len(values) == 1 else tuple(values)))

    def _base_protocol(self, i, value, vstart, vend, negated, cstart):
        try:
            name = V.parse_protocol(value)
        except V.BadValue as exc:
            raise LineError(exc.code, vstart, vend, str(exc), help=exc.help) from None
        if name == "all" and negated:
            raise LineError("FW008", cstart, vend, "'! -p all' never matches any packet")
        if self.family == 6 and name == "icmp":
            raise LineError("FW011", vstart, vend,
                            "-p icmp in an IPv6 ruleset matches ICMPv4 inside IPv6, never ICMPv6",
                            help="use -p ipv6-icmp (icmpv6)")
        if self.family == 4 and name == "ipv6-icmp":
            raise LineError("FW011", vstart, vend, f"-p {value} (ICMPv6) in an IPv4 ruleset",
                            help="use -p icmp")
        self.proto, self.proto_negated = name, negated
        if name != "all":
            self.conds.append((i, Proto(name, negated, None, self._span(cstart, vend))))

    def _base_in_interface(self, i, value, vstart, vend, negated, cstart):
        self._iface("in", i, value, vstart, vend, negated, cstart)

    def _base_out_interface(self, i, value, vstart, vend, negated, cstart):
        self._iface("out", i, value, vstart, vend, negated, cstart)

    def _iface(self, field_, i, value, vstart, vend, negated, cstart):
        try:
            V.parse_interface(value)
        except V.BadValue as exc:
            raise LineError(exc.code, vstart, vend, str(exc), help=exc.help) from None
        self.conds.append((i, Iface(field_, value, negated, None, self._span(cstart, vend))))

    def _base_match(self, i, value, vstart, vend, negated, cstart):
        name = value
        ext = match_ext(name, self.family)
        start = self.words[i][1]
        if ext is not None and ext.family and ext.family != self.family:
            raise LineError("FW011", vstart, vend,
                            f"the {name} match exists only in IPv{ext.family} rules")
        if ext is None and name not in OTHER_MATCHES:
            # A module fwc does not know is kept verbatim (xtables-addons, newer
            # iptables); one that is a near miss of a known name is a typo.
            close = difflib.get_close_matches(name, sorted(set(MATCHES) | OTHER_MATCHES), n=1,
                                              cutoff=0.8)
            if close:
                raise LineError("FW009", vstart, vend, f"unknown match module {name!r}",
                                help=f"did you mean {close[0]!r}?")
        if name == "icmpv6":
            name = "icmp6"
        mod = _Module(name, ext, start, vend, i)
        self.modules.append(mod)
        self._add_owner(mod)

    def _base_jump(self, i, value, vstart, vend, negated, cstart):
        self._target(i, value, vstart, vend, goto=False)

    def _base_goto(self, i, value, vstart, vend, negated, cstart):
        self._target(i, value, vstart, vend, goto=True)

    def _target(self, i, name, vstart, vend, *, goto):
        ext = target_ext(name, self.family)
        if ext is not None and ext.family and ext.family != self.family:
            raise LineError("FW011", vstart, vend,
                            f"the {name} target exists only in IPv{ext.family} rules")
        if goto and (ext is not None or name in OTHER_TARGETS):
            raise LineError("FW001", vstart, vend, f"-g needs a user chain, not the target {name}")
        self.target = _Module(name, ext, self.words[i][1], vend, i)
        self._add_owner(self.target)
        self.target_word = (name, vstart, vend)
        self.goto = goto

    def _extension_prefix(self, name: str) -> list[tuple[_Module, str]]:
        found = []
        for mod in self._scopes():
            if mod.ext:
                for option in mod.ext.options:
                    if option.startswith(name):
                        found.append((mod, option))
        return found

    def _scopes(self) -> list[_Module]:
        scopes = list(reversed(self.modules))
        if self.target is not None:
            scopes.insert(0, self.target)
        return scopes

    def _extension_option(self, i: int, name: str, inline: str | None, negated_at: int) -> int:
        text, start, end = self.words[i]
        scopes = self._scopes()
        if not text.startswith("--"):
            return self._unknown_option(i, scopes, negated_at)
        owner = next((m for m in scopes if m.ext and name in m.ext.options), None)
        if owner is None:
            owner = self._implicit_module(name)
        if owner is None:
            found = {(id(m), m.ext.options[o].name): (m, o) for m, o in self._extension_prefix(name)}
            if not found:
                found = self._implicit_prefix(name)
            if len(found) == 1:
                owner, name = next(iter(found.values()))
                if owner.pos < 0 and owner not in self.modules:
                    self.modules.append(owner)
                    self._add_owner(owner)
            elif len(found) > 1:
                raise LineError("FW001", start, end, f"option {text} is ambiguous")
        if owner is None:
            opaque = self._opaque_owner()
            if opaque is not None:
                return self._opaque_words(opaque, i, negated_at)
            return self._unknown_option(i, scopes, negated_at)
        return self._module_option_value(owner, owner.ext.options[name], i, inline, negated_at)

    def _implicit_module(self, name: str) -> _Module | None:
        """``-p tcp --dport 22`` loads the tcp match without ``-m tcp``."""
        module = _PROTO_MODULES.get(self.proto or "")
        if module is None or self.proto_negated:
            return None
        ext = MATCHES.get(module)
        if ext is None or name not in ext.options:
            return None
        mod = next((m for m in self.modules if m.name == module), None)
        if mod is None:
            mod = _Module(module, ext, -1, -1, -1)
            self.modules.append(mod)
            self._add_owner(mod)
        return mod

    def _implicit_prefix(self, name: str) -> dict:
        """An abbreviated option of the protocol's match (``-p tcp --dp 22``)."""
        module = _PROTO_MODULES.get(self.proto or "")
        ext = MATCHES.get(module or "")
        if ext is None or self.proto_negated:
            return {}
        mod = next((m for m in self.modules if m.name == module), None) or _Module(module, ext, -1, -1, -1)
        return {ext.options[o].name: (mod, o) for o in ext.options if o.startswith(name)}

    def _opaque_owner(self) -> _Module | None:
        """The module or target fwc keeps verbatim that the words belong to, if any."""
        last = self.target if self.target is not None else (self.modules[-1] if self.modules else None)
        if last is not None and last.ext is None:
            return last
        return None

    def _opaque_words(self, mod: _Module, i: int, negated_at: int) -> int:
        """An unmodelled module's option: keep it and every word up to the next base
        option (or a '!' before one) verbatim."""
        if negated_at >= 0:
            mod.raw.append("!")
        words = self.words
        while True:
            mod.raw.append(words[i][0])
            mod.end = words[i][2]
            i += 1
            if i >= len(words) or self._starts_base(i):
                return i

    def _starts_base(self, i: int) -> bool:
        text = self.words[i][0]
        if text == "!":
            return i + 1 < len(self.words) and self.words[i + 1][0].split("=")[0] in BASE_OPTIONS
        if text.startswith("--") and not text.startswith("---"):
            name = text.split("=", 1)[0]
            return name in BASE_OPTIONS
        return text in BASE_OPTIONS

    def _unknown_option(self, i: int, scopes: list[_Module], negated_at: int) -> LineError:
        text, start, end = self.words[i]
        name = text.split("=", 1)[0]
        bare = name.lstrip("-")
        if bare in _PORT_OPTION_NAMES and not any(m.name in ("tcp", "udp", "sctp", "dccp", "udplite",
                                                              "multiport") for m in self.modules):
            raise LineError("FW007", start, end,
                            f"{name} needs a protocol: add -p tcp or -p udp before it",
                            help="iptables only knows port options once -p tcp/udp (or -m "
                                 "tcp/udp/multiport) is given")
        candidates = [s for s in BASE_OPTIONS]
        for mod in scopes:
            if mod.ext:
                candidates += ["--" + o for o in mod.ext.options]
        for proto_module in ("tcp", "udp", "icmp", "icmp6"):
            candidates += ["--" + o for o in MATCHES[proto_module].options]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        owner = ""
        if scopes and scopes[0].ext:
            owner = f" for {scopes[0].name}"
        raise LineError("FW009", start, end, f"unknown option {name}{owner}",
                        help=f"did you mean {close[0]}?" if close else None)

    def _module_option_value(self, mod: _Module, opt: Opt, i: int, inline: str | None,
                             negated_at: int) -> int:
        text, start, end = self.words[i]
        negated = negated_at >= 0
        cstart = self.words[negated_at][1] if negated else start
        if negated and not opt.invert:
            raise LineError("FW001", cstart, end, f"{mod.name}: option --{opt.name} cannot be negated")
        if opt.name in mod.seen and not opt.multi:
            raise LineError("FW001", start, end, f"{mod.name}: option --{opt.name} can be given only once")
        values: tuple[str, ...] = ()
        parsed = None
        vend = end
        nxt = i + 1
        if opt.nargs == 1:
            value, vstart, vend, nxt = self._value(i, inline, "--" + opt.name)
            try:
                parsed = validate_value(opt, value, self.family)
            except V.BadValue as exc:
                if value == "!":
                    raise LineError("FW001", vstart, vend, f"'!' goes before the option: write "
                                    f"'! --{opt.name} VALUE'") from None
                raise LineError(exc.code, vstart, vend, f"{mod.name} --{opt.name}: {exc}",
                                help=exc.help) from None
            if inline is None:
                self.checked[i + 1] = (opt, parsed)
            else:
                self.templatable = False
            if opt.type == "addr" and parsed[1]:
                self.warnings.append(("FW010", vstart, vend, parsed[1]))
            values = (value,)
        elif opt.nargs == 2:
            if inline is not None or i + 2 >= len(self.words) or _is_option(self.words[i + 2][0]) \
                    and opt.type == "setargs":
                raise LineError("FW001", start, end, f"{mod.name}: --{opt.name} needs two arguments")
            first, second = self.words[i + 1], self.words[i + 2]
            if opt.type == "chunktypes" and first[0] not in ("all", "any", "only"):
                raise LineError("FW008", first[1], first[2],
                                f"sctp --chunk-types: {first[0]!r} must be all, any or only")
            if opt.type == "tcpflags":
                try:
                    parsed = (V.parse_tcp_flags(first[0]), V.parse_tcp_flags(second[0]))
                except V.BadValue as exc:
                    bad = first if _bad_flags(first[0]) else second
                    raise LineError("FW008", bad[1], bad[2], f"tcp --tcp-flags: {exc}",
                                    help=exc.help) from None
            elif opt.type == "setargs":
                _check_set_flags(second)
            if opt.type != "tcpflags":
                self.templatable = False
            values = (first[0], second[0])
            vend = second[2]
            nxt = i + 3
        mod.seen[opt.name] = values[0] if values else ""
        mod.items.append((opt.name, negated, values, parsed, cstart, vend, i))
        if mod.end < vend:
            mod.end = vend
        return nxt

    # ----------------------------------------------------------------- end of rule

    def _finish(self, chain: str) -> tuple[ParsedRule, tuple[int, int] | None]:
        for mod in self.modules:
            if mod.ext is not None:
                self._check_extension(mod)
        if self.target is not None and self.target.ext is not None:
            self._check_extension(self.target)
        conds: list[tuple[int, object]] = list(self.conds)
        comment = None
        for mod in self.modules:
            if mod.name == "comment" and mod.ext is not None and comment is None:
                comment = comment_of(mod)
                continue
            conds.extend(lower_module(mod, self.family, self._span))
        conds.sort(key=_first)
        target = None
        target_span = None
        if self.target is not None:
            name = self.target.name
            if self.target.ext is not None:
                args = lower_target_args(self.target, self.family)
            else:
                args = tuple(self.target.raw)
            target_span = (self.target_word[1], self.target_word[2])
            target = Target(name, args, self.goto, self._span(self.target.start, self.target.end))
        return ParsedRule(chain, [c for _, c in conds], target, comment), target_span

    def finals(self) -> list:
        """Modules whose final check depends on values: (extension, [(option, word)])."""
        found = []
        for mod in self.modules:
            if mod.ext is not None and mod.ext.final is not None:
                found.append((mod.ext, [(name, pos + 1 if values else -1)
                                        for name, _, values, _, _, _, pos in mod.items]))
        return found

    def _check_extension(self, mod: _Module) -> None:
        ext = mod.ext
        seen = mod.seen
        where = (mod.start, mod.end) if mod.start >= 0 else (mod.items[0][4], mod.items[0][5])
        label = mod.name
        for group in ext.exclusive:
            present = [o for o in group if o in seen]
            if len(present) > 1:
                raise LineError("FW001", *where,
                                f"{label}: --{present[0]} cannot be used together with --{present[1]}")
        for group in ext.one_of:
            if not any(o in seen for o in group):
                names = ", ".join("--" + o for o in group)
                raise LineError("FW001", *where, f"{label}: one of {names} is required"
                                if len(group) > 1 else f"{label}: option --{group[0]} must be specified")
        for name in ext.mandatory:
            if name not in seen:
                raise LineError("FW001", *where, f"{label}: option --{name} must be specified")
        for name, needed in ext.also.items():
            if name in seen and needed not in seen:
                raise LineError("FW001", *where, f"{label}: --{name} also needs --{needed}")
        if ext.final is not None:
            problem = ext.final(seen)
            if problem:
                raise LineError("FW001", *where, f"{label}: {problem}")
        if ext.protos and not mod.ext.is_target:
            self._check_protocol(mod, where)
        if ext.is_target:
            self._check_target_protocol(mod, where)

    def _check_protocol(self, mod: _Module, where) -> None:
        if self.proto in mod.ext.protos and not self.proto_negated:
            return
        if mod.name == "multiport" or set(mod.ext.protos) & _PORT_PROTOS:
            need = " or ".join("-p " + p for p in mod.ext.protos[:2])
            raise LineError("FW007", *where,
                            f"the {mod.name} match needs {need} in the same rule",
                            help=f"add {need.split(' or ')[0]} before -m {mod.name}")
        raise LineError("FW001", *where, f"the {mod.name} match needs -p {mod.ext.protos[0]} "
                                         "in the same rule")

    def _check_target_protocol(self, mod: _Module, where) -> None:
        name = mod.name
        needs_ports = False
        if name in ("DNAT", "SNAT"):
            key = "to-destination" if name == "DNAT" else "to-source"
            for opt, _, values, parsed, *_ in mod.items:
                if opt == key and parsed:
                    needs_ports = True
        elif name in ("MASQUERADE", "REDIRECT") and "to-ports" in mod.seen:
            needs_ports = True
        if needs_ports and (self.proto not in _PORT_PROTOS or self.proto_negated):
            raise LineError("FW007", *where,
                            f"{name} with a port needs -p tcp, -p udp, -p sctp or -p dccp",
                            help="add -p tcp (or udp) to the rule")
        if name == "REJECT" and mod.seen.get("reject-with") in ("tcp-reset", "tcp-rst") \
                and self.proto != "tcp":
            raise LineError("FW008", *where, "--reject-with tcp-reset needs -p tcp in the same rule")


_ONCE = frozenset({"source", "destination", "protocol", "in-interface", "out-interface",
                   "fragment", "jump", "goto"})
_BASE_HANDLERS = {name: getattr(_RuleReader, "_base_" + name.replace("-", "_"))
                  for name in ("source", "destination", "protocol", "in-interface",
                               "out-interface", "match", "jump", "goto")}


def _first(item):
    return item[0]


def _bad_flags(text: str) -> bool:
    try:
        V.parse_tcp_flags(text)
        return False
    except V.BadValue:
        return True


def _check_set_flags(word: Word) -> None:
    items = word[0].split(",")
    if len(items) > 6 or any(i not in ("src", "dst") for i in items):
        raise LineError("FW008", word[1], word[2],
                        f"bad set flags {word[0]!r}: a comma list of src and dst (at most 6)")


def _is_option(text: str) -> bool:
    return len(text) > 1 and text[0] == "-" and not text[1].isdigit()

# --------------------------------------------------------------------------- family

_V6_CONTENT = re.compile(r"ipv6-icmp|icmpv6|-m icmp6|(?:^|[ \t])(?:-[sd]|--source|--destination|--src|--dst)"
                         r"[ \t]+(?:![ \t]+)?[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*(?:/[0-9]+)?(?=[ \t,])",
                         re.MULTILINE)
_V4_CONTENT = re.compile(r"(?:^|[ \t])(?:-[sd]|--source|--destination|--src|--dst)[ \t]+(?:![ \t]+)?"
                         r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|-p icmp[ \t]", re.MULTILINE)
_V6_NAME = re.compile(r"ip6tables|ipv6|\.v6$|6\.rules$|rules6|[-_.]v6[-_.]|6$")
_V4_NAME = re.compile(r"iptables|ipv4|\.v4$|4\.rules$|rules4|[-_.]v4[-_.]")


def detect_family(text: str, path: str | None) -> int:
    """The address family of a rules file: its ``# Generated by ip6tables-save`` header,
    else its name (``rules.v6``, ``ip6tables.rules``), else its addresses, else 4."""
    head = text[:4096]
    if "ip6tables-save" in head:
        return 6
    if "iptables-save" in head:
        return 4
    name = PurePath(path).name.lower() if path else ""
    if name and _V6_NAME.search(name):
        return 6
    if name and _V4_NAME.search(name):
        return 4
    if _V6_CONTENT.search(text) and not _V4_CONTENT.search(text):
        return 6
    return 4


# --------------------------------------------------------------------------- reading

_TABLES = frozenset(BUILTIN_CHAINS)
# ":NAME - [packets:bytes]", NAME without spaces or tabs, at most CHAIN_NAME_MAX characters.
_NEW_USER_CHAIN = re.compile(r":([^ \t]{1,%d}) - \[([0-9]+):([0-9]+)\]" % V.CHAIN_NAME_MAX)
_POLICIES = frozenset({"ACCEPT", "DROP"})
_SEVERITY = {code: Severity.ERROR for code in (f"FW{n:03d}" for n in range(1, 15))}
_SEVERITY["FW010"] = Severity.WARNING


class _ChainBuild:
    __slots__ = ("name", "policy", "rules", "line", "span", "counters", "declared", "first_use")

    def __init__(self, name, policy, line, span, counters=None, declared=True):
        self.name, self.policy, self.line, self.span = name, policy, line, span
        self.counters = counters
        self.declared = declared
        self.rules: list[tuple[Rule, int, tuple[int, int] | None]] = []
        self.first_use: tuple[int, tuple[int, int]] | None = None


class _TableBuild:
    def __init__(self, name: str, line: int, span: Span):
        self.name, self.line, self.span = name, line, span
        self.chains: dict[str, _ChainBuild] = {}
        self.committed = False

    def builtin(self, name: str) -> bool:
        return name in BUILTIN_CHAINS[self.name]


class _FileReader:
    def __init__(self, text: str, path: str, family: int, linemap: LineMap | None):
        self.text, self.path, self.family, self.linemap = text, path, family, linemap
        self.diagnostics: list[Diagnostic] = []
        self.comments: list[Comment] = []
        self.tables: dict[str, _TableBuild] = {}
        self.table: _TableBuild | None = None
        self.line_no = 0
        self.line = ""
        self.templates: dict[tuple, Template | None] = {}
        self.recent: list[Template] = []
        # Dumps repeat a sequence of shapes (kube-proxy: a SEP chain's MARK-MASQ rule,
        # then its DNAT rule): the shape that followed the last line's shape last time
        # is tried first.
        self.last_template: Template | None = None
        self.successor: dict[Template | None, Template] = {}
        self.use_templates = True

    # ----------------------------------------------------------------- positions

    def span(self, line: int, start: int, end: int) -> Span:
        if self.linemap is not None:
            return self.linemap.span(line, start + 1, line, end + 1)
        return Span(self.path, line, start + 1, line, end + 1)

    def span_maker(self):
        """A fast (start, end) -> Span function for the current line."""
        if self.linemap is not None:
            return self.line_span
        path, line = self.path, self.line_no

        def make(start: int, end: int) -> Span:
            return Span(path, line, start + 1, line, end + 1)
        return make

    def line_span(self, start: int, end: int) -> Span:
        return self.span(self.line_no, start, end)

    def report(self, code: str, line: int, start: int, end: int, message: str, *,
               help: str | None = None, severity: Severity | None = None,
               related: tuple[Related, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(code, severity or _SEVERITY.get(code, Severity.ERROR),
                                           self.span(line, start, max(end, start + 1)), message,
                                           related=related, help=help))

    # ----------------------------------------------------------------- lines

    def read(self) -> RulesRead:
        lines = self.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if lines and lines[0].endswith("\r"):
            self.report("FW001", 1, len(lines[0]) - 1, len(lines[0]),
                        "the file has Windows (CRLF) line endings: iptables-restore reads the "
                        "carriage return as part of every line and fails",
                        help="convert the file to Unix line endings (dos2unix)")
            lines = [l[:-1] if l.endswith("\r") else l for l in lines]
        stray_returns = "\r" in self.text
        plain_chains = self.use_templates and self.linemap is None
        for number, line in enumerate(lines, 1):
            self.line_no, self.line = number, line
            try:
                if stray_returns and line.endswith("\r"):
                    raise LineError("FW001", len(line) - 1, len(line),
                                    "this line ends with a carriage return: iptables-restore "
                                    "reads it as part of the last word and fails",
                                    help="save the file with Unix line endings")
                # The common cases first: a rule of a shape seen just before, a new
                # user chain as iptables-save writes it.
                table = self.table
                if table is not None:
                    if line[:3] == "-A ":
                        if self.recent and self._from_recent(line, table):
                            continue
                    elif line[:1] == ":" and plain_chains and self._new_user_chain(line, table):
                        continue
                self.read_line(line)
            except LineError as err:
                self.report(err.code, number, err.start, err.end, err.message, help=err.help)
        if self.table is not None and not self.table.committed:
            self._missing_commit(self.table, "the file ends before COMMIT")
            self._close_table(self.table)
        ruleset = self.build()
        return RulesRead(ruleset, self.diagnostics, self.comments)

    def read_line(self, line: str) -> None:
        """Any line (read() has tried the common cases' fast paths)."""
        if not line:
            return
        first = line[0]
        if first == "#":
            self.comments.append(Comment(self.line_span(0, len(line)), line[1:], True))
            return
        table = self.table
        if table is not None and line == "COMMIT":
            self._close_table(table)
            table.committed = True
            self.table = None
            return
        if first == "*" and table is None:
            self._table_line(line)
            return
        if first == ":" and table is not None:
            self._chain_line(line, table)
            return
        if table is None:
            self._outside_table(line)
            return
        if first == "*":
            self._missing_commit(table, f"a new table starts on line {self.line_no}")
            self._close_table(table)
            self.table = None
            self._table_line(line)
            return
        if line.rstrip(" \t\r") == "COMMIT":
            raise LineError("FW001", 0, len(line),
                            "COMMIT must be alone on its line: with trailing white space "
                            "iptables-restore reads it as a command and fails",
                            help="remove the trailing white space")
        self._command_line(line, table)

    def _outside_table(self, line: str) -> None:
        stripped = line.strip(" \t")
        if not stripped:
            raise LineError("FW001", 0, len(line),
                            "a line with only white space outside a table: iptables-restore "
                            "fails on it", help="delete the white space (an empty line is fine)")
        if stripped == "COMMIT" or line.startswith("COMMIT"):
            raise LineError("FW001", 0, len(line), "COMMIT without a table to commit")
        start = len(line) - len(line.lstrip(" \t"))
        raise LineError("FW003", start, len(line.rstrip()),
                        "a chain or rule line outside a table: no *table line before it "
                        "(or the table was already committed)",
                        help="start the section with *filter (or *nat, *mangle, *raw)")

    def _table_line(self, line: str) -> None:
        words = _PLAIN_WORD.findall(line, 1)
        if not words or not line[1:2].strip():
            raise LineError("FW001", 0, len(line), "a table name must follow '*' (e.g. *filter)")
        name = words[0]
        if name not in _TABLES:
            close = difflib.get_close_matches(name, sorted(_TABLES), n=1)
            raise LineError("FW001", 1, 1 + len(name),
                            f"unknown table {name!r} (filter, nat, mangle, raw or security)",
                            help=f"did you mean {close[0]!r}?" if close else None)
        table = _TableBuild(name, self.line_no, self.line_span(0, len(line)))
        # A second section for the same table replaces the first: iptables-restore flushes it.
        self.tables.pop(name, None)
        self.tables[name] = table
        self.table = table

    def _chain_line(self, line: str, table: _TableBuild) -> None:
        if "\t" in line or "  " in line or line.endswith(" "):
            words = [(m.group(), m.start(), m.end()) for m in _PLAIN_WORD.finditer(line, 1)]
        else:
            words = _split_plain(line, 1, 1, [])
        if len(words) < 2 or line[1:2] in (" ", "\t"):
            from lark.exceptions import UnexpectedInput  # malformed lines only

            parser = lark_parser("iptables_save.lark", start="chain_line")
            try:
                parser.parse(line)
            except UnexpectedInput as exc:
                raise _lark_error(line, exc) from None
            raise LineError("FW001", 0, len(line), "a chain line is ':NAME POLICY [packets:bytes]'")
        (name, nstart, nend), (policy, pstart, pend) = words[0], words[1]
        counters = None
        if len(words) > 2:
            text, cstart, cend = words[2]
            if _CHAIN_COUNTERS.match(text):
                counters = tuple(int(x) for x in text[1:-1].split(":"))
            else:
                self.report("FW001", self.line_no, cstart, cend,
                            f"malformed counters {text!r}: iptables-restore ignores them, but "
                            "iptables-restore --counters refuses the file",
                            help="write [packets:bytes], e.g. [0:0]", severity=Severity.WARNING)
        if len(name) > V.CHAIN_NAME_MAX:
            raise LineError("FW013", nstart, nend,
                            f"chain name {name!r} is {len(name)} characters long; at most "
                            f"{V.CHAIN_NAME_MAX} allowed")
        builtin = table.builtin(name)
        existing = table.chains.get(name)
        if existing is not None and existing.declared:
            raise LineError("FW014", nstart, nend, f"chain {name} is declared twice in the "
                            f"{table.name} table (first on line {existing.line})")
        if builtin:
            if policy not in _POLICIES and policy != "-":
                raise LineError("FW006", pstart, pend,
                                f"the policy of built-in chain {name} must be ACCEPT or DROP, not {policy!r}")
            chain_policy = policy if policy in _POLICIES else "ACCEPT"
        else:
            if policy != "-":
                raise LineError("FW006", pstart, pend,
                                f"user chain {name} cannot have a policy ({policy}); write '-'"
                                + (f" ({name} is not a built-in chain of the {table.name} table)"
                                   if policy in _POLICIES and _builtin_anywhere(name) else ""),
                                help=f"write :{name} - [0:0]")
            chain_policy = None
        span = self.line_span(0, len(line))
        if existing is not None:
            existing.declared, existing.line, existing.span = True, self.line_no, span
            existing.policy, existing.counters = chain_policy, counters
        else:
            table.chains[name] = _ChainBuild(name, chain_policy, self.line_no, span, counters)

    def _new_user_chain(self, line: str, table: _TableBuild) -> bool:
        """The common case, a new user chain as iptables-save writes it
        (``:NAME - [0:0]``), declared without further checks; False for anything else."""
        m = _NEW_USER_CHAIN.fullmatch(line)
        if m is None or not line.isascii():
            return False
        name = m.group(1)
        chains = table.chains
        if name in chains or table.builtin(name):
            return False
        number = self.line_no
        chains[name] = _ChainBuild(name, None, number,
                                   _NEW_SPAN(self.path, number, 1, number, len(line) + 1),
                                   (int(m.group(2)), int(m.group(3))))
        return True

    def _missing_commit(self, table: _TableBuild, why: str) -> None:
        self.report("FW002", table.line, 0, len(table.name) + 1,
                    f"the *{table.name} table has no COMMIT ({why}): iptables-restore loads "
                    "nothing from it", help="end the table with a line COMMIT")

    # ----------------------------------------------------------------- commands

    def _command_line(self, line: str, table: _TableBuild) -> None:
        counters = None
        start = 0
        if line[0] == "[":
            m = _RULE_COUNTERS.match(line)
            if m is None:
                lark_words(line)  # raises the syntax error
                raise LineError("FW001", 0, line.find("]") + 1 or len(line),
                                "bad counters: expected [packets:bytes] with two numbers")
            counters = (int(m.group(1)), int(m.group(2)))
            start = m.end()
        words = split_words(line, start)
        if words is None:
            counters_text, words = lark_words(line)
        key = None
        if self.use_templates and len(words) > 1 and words[0][0] in ("-A", "--append"):
            key = shape_key(words)
            template = self.templates.get(key)
            if template is not None:
                if self._from_template(template, words, table, counters):
                    self._remember(template)
                    self.last_template = template
                    return
                key = None
        reader = _RuleReader(words, self.family, line, self.span_maker())
        command = reader.command()
        for code, wstart, wend, message in reader.warnings:
            self.report(code, self.line_no, wstart, wend, message)
        getattr(self, "_do_" + command.action.replace("-", "_"))(command, table, counters)
        if key is not None and reader.templatable and not reader.warnings and key not in self.templates \
                and self.linemap is None:
            try:
                self.templates[key] = Template(words, command.rule, command.target_span,
                                               reader.checked, reader.finals(), self.family,
                                               key, line)
            except GiveUp:
                self.templates[key] = None

    def _remember(self, template) -> None:
        """Keep the last few shapes with a regular expression to try first."""
        if template.regex is not None and template not in self.recent:
            self.recent.insert(0, template)
            del self.recent[4:]

    def _from_recent(self, line: str, table) -> bool:
        """A line of a recently seen shape: one regular expression match, no splitting.
        (A template whose expression takes a line of another shape gives the line up to
        the full interpreter, so the order tried is only a matter of speed.)"""
        template = self.successor.get(self.last_template)
        m = template.regex.fullmatch(line) if template is not None else None
        if m is None:
            guess = template
            for template in self.recent:
                if template is not guess:
                    m = template.regex.fullmatch(line)
                    if m is not None:
                        self.successor[self.last_template] = template
                        break
            else:
                return False
        try:
            chain, rule, target_span = template.take(m, self.path, self.line_no, line)
        except (GiveUp, V.BadValue):
            return False
        build = table.chains.get(chain)
        if build is None or not build.declared:
            build = self._chain_for(table, Command("append", chain, m.span(2)))
        build.rules.append((rule, self.line_no, target_span))
        self.last_template = template
        return True

    def _from_template(self, template, words, table, counters) -> bool:
        try:
            chain, rule, target_span = template.apply(words, self.path, self.line_no, self.line,
                                                      counters)
        except (GiveUp, V.BadValue):
            return False
        build = table.chains.get(chain)
        if build is None or not build.declared:
            build = self._chain_for(table, Command("append", chain, (words[1][1], words[1][2])))
        build.rules.append((rule, self.line_no, target_span))
        return True

    def _chain_for(self, table: _TableBuild, command: Command) -> _ChainBuild:
        chain = table.chains.get(command.chain)
        if chain is None:
            builtin = table.builtin(command.chain)
            chain = _ChainBuild(command.chain, "ACCEPT" if builtin else None, self.line_no,
                                None, declared=builtin)
            table.chains[command.chain] = chain
        if not chain.declared and chain.first_use is None:
            chain.first_use = (self.line_no, command.chain_span)
        return chain

    def _rules_of(self, command: Command, counters) -> list[tuple[Rule, int, tuple | None]]:
        parsed = command.rule
        span = self.line_span(0, len(self.line))
        alternatives = [c for c in parsed.conds if isinstance(c, tuple)]
        if not alternatives:
            rule = Rule(parsed.chain, Match(tuple(parsed.conds)), parsed.target, parsed.comment,
                        span, counters, self.line)
            return [(rule, self.line_no, command.target_span)]
        return [(Rule(parsed.chain, Match(conds), parsed.target, parsed.comment, span, counters,
                      self.line), self.line_no, command.target_span)
                for conds in _expand(parsed.conds)]

    def _do_append(self, command, table, counters):
        self._chain_for(table, command).rules.extend(self._rules_of(command, counters))

    def _do_check(self, command, table, counters):
        self._chain_for(table, command)

    def _do_insert(self, command, table, counters):
        chain = self._chain_for(table, command)
        position = (command.number or 1) - 1
        if position > len(chain.rules):
            raise LineError("FW008", 0, len(self.line),
                            f"rule number {command.number} is too big: {chain.name} has "
                            f"{len(chain.rules)} rule(s) at this point")
        chain.rules[position:position] = self._rules_of(command, counters)

    def _do_replace(self, command, table, counters):
        chain = self._chain_for(table, command)
        if command.number > len(chain.rules):
            raise LineError("FW008", 0, len(self.line),
                            f"rule number {command.number} does not exist in {chain.name}")
        chain.rules[command.number - 1:command.number] = self._rules_of(command, counters)

    def _do_delete(self, command, table, counters):
        chain = self._chain_for(table, command)
        if command.number is not None:
            if command.number > len(chain.rules):
                raise LineError("FW008", 0, len(self.line),
                                f"rule number {command.number} does not exist in {chain.name}")
            del chain.rules[command.number - 1]
            return
        wanted = self._rules_of(command, counters)[0][0]
        for index, (rule, *_) in enumerate(chain.rules):
            if rule == wanted:
                del chain.rules[index]
                return
        raise LineError("FW008", 0, len(self.line), f"no such rule in {chain.name} to delete")

    def _do_policy(self, command, table, counters):
        policy = command.args[0]
        if not table.builtin(command.chain):
            raise LineError("FW006", *command.chain_span,
                            f"-P sets the policy of a built-in chain; {command.chain} is not one "
                            f"in the {table.name} table")
        if policy not in _POLICIES:
            raise LineError("FW006", 0, len(self.line),
                            f"the policy of {command.chain} must be ACCEPT or DROP, not {policy!r}")
        chain = self._chain_for(table, command)
        chain.policy = policy

    def _do_new_chain(self, command, table, counters):
        name = command.chain
        if len(name) > V.CHAIN_NAME_MAX:
            raise LineError("FW013", *command.chain_span,
                            f"chain name {name!r} is {len(name)} characters long; at most "
                            f"{V.CHAIN_NAME_MAX} allowed")
        existing = table.chains.get(name)
        if (existing is not None and existing.declared) or table.builtin(name):
            raise LineError("FW014", *command.chain_span, f"chain {name} already exists in the "
                            f"{table.name} table")
        if existing is not None:
            existing.declared, existing.line = True, self.line_no
        else:
            table.chains[name] = _ChainBuild(name, None, self.line_no,
                                             self.line_span(0, len(self.line)))

    def _existing(self, table, command) -> _ChainBuild:
        chain = table.chains.get(command.chain)
        if chain is None and table.builtin(command.chain):
            chain = self._chain_for(table, command)
        if chain is None:
            raise LineError("FW004", *command.chain_span,
                            f"chain {command.chain} does not exist in the {table.name} table")
        return chain

    def _do_flush(self, command, table, counters):
        chains = [self._existing(table, command)] if command.chain else table.chains.values()
        for chain in chains:
            chain.rules.clear()

    def _do_delete_chain(self, command, table, counters):
        if command.chain is None:
            for name in [n for n, c in table.chains.items() if c.policy is None]:
                del table.chains[name]
            return
        chain = self._existing(table, command)
        if chain.policy is not None:
            raise LineError("FW008", *command.chain_span, f"built-in chain {chain.name} cannot be deleted")
        del table.chains[command.chain]

    def _do_zero(self, command, table, counters):
        if command.chain:
            self._existing(table, command)

    def _do_rename_chain(self, command, table, counters):
        chain = self._existing(table, command)
        new = command.args[0]
        if new in table.chains or table.builtin(new):
            raise LineError("FW014", 0, len(self.line), f"chain {new} already exists")
        del table.chains[command.chain]
        chain.name = new
        table.chains[new] = chain

    # ----------------------------------------------------------------- tables

    def _close_table(self, table: _TableBuild) -> None:
        """At COMMIT: every chain used must exist, every jump must go somewhere, no
        loops, and targets only where the kernel allows them."""
        chains = table.chains
        for chain in chains.values():
            if not chain.declared and chain.first_use is not None:
                line, (start, end) = chain.first_use
                self.report("FW004", line, start, end,
                            f"chain {chain.name} is not declared in the {table.name} table"
                            + (f" ({chain.name} is a built-in chain of another table)"
                               if _builtin_anywhere(chain.name) else ""),
                            help=f"declare it with :{chain.name} - [0:0]")
        callees, placed = self._scan_targets(table)
        walked = _callers_first(callees, chains if placed else None)
        if walked is None:
            # There is a loop: the depth-first search names it (and every other one).
            self._check_loops(self._jumps(table))
        if placed:
            self._check_places(table, placed, callees, None if walked is None else walked[1])

    def _scan_targets(self, table: _TableBuild) -> tuple[dict[str, list[str]], list]:
        """One pass over the rules: the user chains each chain jumps to, the targets
        with places, and a report for every target that is neither a chain nor known."""
        chains = table.chains
        callees: dict[str, list[str]] = {}
        placed = []
        kinds: dict[str, int] = {}  # target name -> _PLACED | _JUMP | _UNKNOWN bits
        for chain in chains.values():
            out = None
            for rule, line, target_span in chain.rules:
                target = rule.target
                if target is None:
                    continue
                name = target.name
                kind = kinds.get(name)
                if kind is None:
                    kind = kinds[name] = self._target_kind(name, chains)
                if not kind:
                    continue
                if kind & _JUMP:
                    if out is None:
                        out = callees.setdefault(chain.name, [])
                    out.append(name)
                if kind & _PLACED:
                    placed.append((chain, target, line, target_span))
                if kind & _UNKNOWN and target_span is not None:
                    self.report("FW004", line, *target_span,
                                f"{'-g' if target.goto else '-j'} {name}: no such chain "
                                f"or target in the {table.name} table",
                                help=f"declare the chain with :{name} - [0:0], or check "
                                     "the spelling of the target")
        return callees, placed

    def _target_kind(self, name: str, chains: dict) -> int:
        kind = _PLACED if name in TARGET_PLACES else 0
        chain = chains.get(name)
        if chain is not None:
            return kind | _JUMP if chain.policy is None else kind
        return kind if _is_target(name, self.family) else kind | _UNKNOWN

    def _jumps(self, table: _TableBuild) -> dict[str, list[tuple[str, int, tuple | None]]]:
        """Jumps into user chains with where they are, for the loop reports."""
        chains = table.chains
        jumps: dict[str, list[tuple[str, int, tuple | None]]] = {}
        for chain in chains.values():
            out = None
            for rule, line, target_span in chain.rules:
                target = rule.target
                user = chains.get(target.name) if target is not None else None
                if user is not None and user.policy is None:
                    if out is None:
                        out = jumps.setdefault(chain.name, [])
                    out.append((target.name, line, target_span))
        return jumps

    def _check_loops(self, jumps: dict) -> None:
        state: dict[str, int] = {}
        for root in list(jumps):
            if root in state:
                continue
            # Iterative depth-first search: (chain, iterator over its remaining jumps).
            stack = [(root, iter(jumps[root]))]
            path = [root]
            state[root] = 1
            while stack:
                name, edges = stack[-1]
                for nxt, line, span in edges:
                    mark = state.get(nxt)
                    if mark == 1:
                        cycle = path[path.index(nxt):] + [nxt]
                        self.report("FW005", line, *(span or (0, 1)),
                                    f"chain loop: {' -> '.join(cycle)}; iptables-restore refuses "
                                    "rules that jump in a circle")
                    elif mark is None:
                        below = jumps.get(nxt, ())
                        for after, _, _ in below:
                            if state.get(after) != 2:
                                break
                        else:
                            # Every jump out of it goes to a finished chain (or there is
                            # none): no loop can pass through it, it is finished at once.
                            state[nxt] = 2
                            continue
                        state[nxt] = 1
                        stack.append((nxt, iter(below)))
                        path.append(nxt)
                        break
                else:
                    stack.pop()
                    path.pop()
                    state[name] = 2

    def _check_places(self, table: _TableBuild, placed: list, callees: dict,
                      reach: dict | None) -> None:
        """Targets only in the built-in chains their table allows, also through jumps.
        ``reach`` is what _callers_first found leads to each chain; None when there is a
        loop, and then _Reach searches per chain."""
        sources = None
        verdicts: dict[tuple, list[str]] = {}  # (built-in chains, target) -> where not allowed
        for chain, target, line, span in placed:
            if span is None:
                continue
            places = TARGET_PLACES[target.name]
            if table.name not in places:
                where = ", ".join(f"the {t} table" for t in places)
                self.report("FW012", line, *span,
                            f"{target.name} is not allowed in the {table.name} table "
                            f"(only in {where})")
                continue
            hooks = places[table.name]
            if hooks is None:
                continue
            if chain.policy is not None:
                reached = frozenset((chain.name,))
            else:
                if sources is None:
                    sources = _Reach(table, callees) if reach is None else _ReachAll(reach)
                reached = sources(chain.name)
            bad = verdicts.get((reached, target.name))
            if bad is None:
                bad = verdicts[reached, target.name] = sorted(reached - hooks)
            if bad:
                via = "" if chain.policy is not None else \
                    f" (chain {chain.name} is reached from {', '.join(bad)})"
                self.report("FW012", line, *span,
                            f"{target.name} is only allowed in {', '.join(sorted(hooks))} of "
                            f"the {table.name} table, not in {', '.join(bad)}{via}")

    # ----------------------------------------------------------------- model

    def build(self) -> Ruleset:
        tables = []
        for table in self.tables.values():
            chains = []
            builtin = BUILTIN_CHAINS[table.name]
            for chain in table.chains.values():
                policy = chain.policy
                if policy is None and chain.name in builtin:
                    policy = "ACCEPT"
                chains.append(_NEW_CHAIN(chain.name, policy, tuple(map(_first, chain.rules)),
                                         chain.span, chain.counters))
            tables.append(Table(table.name, tuple(chains), table.span, table.committed))
        return Ruleset(self.family, tuple(tables), self.path)


_first = itemgetter(0)  # the rule of a chain build's (rule, line, target span)


def _builtin_anywhere(name: str) -> bool:
    return any(name in chains for chains in BUILTIN_CHAINS.values())


def _is_target(name: str, family: int) -> bool:
    return target_ext(name, family) is not None or name in OTHER_TARGETS


_PLACED, _JUMP, _UNKNOWN = 1, 2, 4  # what a target name is, at the end of a table
_NOTHING: frozenset[str] = frozenset()


def _callers_first(callees: dict[str, list[str]], chains: dict | None = None):
    """The chains of the jump graph, each after every chain that jumps to it (Kahn's
    order), and with ``chains`` (the table's) the built-in chains that lead to each one,
    found on the same walk (a chain's callers are all walked before it; what _Reach finds
    one chain at a time, tested against it). (order, reach or None); None when the
    graph has a loop."""
    # Jumps still to be walked into each chain (a plain dict: faster than a Counter).
    pending = dict(Counter(chain_all.from_iterable(callees.values())))
    order = [name for name in callees if name not in pending]
    total = len(pending) + len(order)
    get = callees.get
    reach: dict[str, frozenset[str]] | None = None if chains is None else {}
    interned: dict[frozenset[str], frozenset[str]] = {}  # equal sets are one object
    mine = _NOTHING
    for name in order:  # grows while it is walked
        out = get(name)
        if out is None:
            continue
        if reach is not None:
            if chains[name].policy is not None:
                mine = frozenset((name,))
                mine = interned.setdefault(mine, mine)
            else:
                mine = reach.get(name, _NOTHING)
        for callee in out:
            left = pending[callee] - 1
            pending[callee] = left
            if not left:
                order.append(callee)
            if reach is not None:
                known = reach.get(callee)
                if known is None:
                    reach[callee] = mine
                elif known is not mine and not mine <= known:
                    both = known | mine
                    reach[callee] = interned.setdefault(both, both)
    return (order, reach) if len(order) == total else None


class _ReachAll:
    """The built-in chains that lead to each chain, from _callers_first's walk."""

    def __init__(self, reach: dict[str, frozenset[str]]):
        self.reach = reach

    def __call__(self, name: str) -> frozenset[str]:
        return self.reach.get(name, _NOTHING)


class _Reach:
    """Which built-in chains lead to a user chain, computed on demand and remembered
    (kube-proxy tables have tens of thousands of chains; most never need it)."""

    def __init__(self, table: _TableBuild, callees: dict):
        self.chains = table.chains
        self.callers: dict[str, list[str]] = {}
        for source, out in callees.items():
            for target in out:
                self.callers.setdefault(target, []).append(source)
        self.memo: dict[str, frozenset[str]] = {}
        self.interned: dict[frozenset[str], frozenset[str]] = {}

    def __call__(self, name: str) -> frozenset[str]:
        memo, callers, chains = self.memo, self.callers, self.chains
        known = memo.get(name)
        if known is not None:
            return known
        only = callers.get(name, ())
        if len(only) == 1 and chains[only[0]].policy is None and only[0] in memo:
            # One calling user chain already known (kube-proxy's KUBE-SEP-* chains).
            known = memo[name] = memo[only[0]]
            return known
        stack = [name]
        entered: set[str] = set()
        while stack:
            current = stack[-1]
            if current in memo:
                stack.pop()
                continue
            users = [c for c in callers.get(current, ()) if chains[c].policy is None]
            pending = [c for c in users if c not in memo and c not in entered]
            if pending and current not in entered:
                entered.add(current)
                stack.extend(pending)
                continue
            found = {c for c in callers.get(current, ()) if chains[c].policy is not None}
            for user in users:
                found |= memo.get(user, frozenset())  # a loop contributes nothing more
            # Equal sets are one object, so callers can remember answers per set.
            found = frozenset(found)
            memo[current] = self.interned.setdefault(found, found)
            stack.pop()
        return memo[name]


def _expand(conds: list) -> list[tuple]:
    """iptables turns ``-s a,b -d c,d`` into one rule per combination."""
    results: list[list] = [[]]
    for cond in conds:
        if isinstance(cond, tuple):
            results = [r + [alt] for r in results for alt in cond]
        else:
            for r in results:
                r.append(cond)
    return [tuple(r) for r in results]


# --------------------------------------------------------------------------- API

def read_rules(text: str, path: str, *, family: int | None = None,
               linemap: LineMap | None = None, shapes: bool = True) -> RulesRead:
    """Read an iptables-save dump or iptables-restore input.

    ``family`` None detects it from the content and the file name (default 4).
    ``linemap`` maps positions into an outer file (rules embedded in YAML).
    ``shapes`` False reads every line with the full interpreter (the fast path's
    reference; the result is the same).
    """
    if family is None:
        family = detect_family(text, path)
    reader = _FileReader(text, path, family, linemap)
    reader.use_templates = shapes
    with collector_paused(freeze=len(text) > _FREEZE_ABOVE):
        return reader.read()


_FREEZE_ABOVE = 1 << 20


def parse_rule(line: str, *, family: int, table: str = "filter", span: Span | None = None,
               path: str = "<raw>") -> tuple[Rule | None, list[Diagnostic]]:
    """One ``-A CHAIN ...`` line (the policy language's ``raw`` statement).

    With ``span``, findings point into that span's line (its column is where the
    text starts) and the rule carries the span.
    """
    linemap = LineMap(span.path, span.line, span.col - 1) if span is not None else None
    reader = _FileReader(line, span.path if span else path, family, linemap)
    reader.line_no, reader.line = 1, line
    build = _TableBuild(table if table in _TABLES else "filter", 1, reader.line_span(0, 1))
    for name in BUILTIN_CHAINS[build.name]:
        build.chains[name] = _ChainBuild(name, "ACCEPT", 0, None)
    try:
        if table not in _TABLES:
            raise LineError("FW001", 0, len(line), f"unknown table {table!r}")
        words = split_words(line)
        if words is None:
            _, words = lark_words(line)
        rule_reader = _RuleReader(words, family, line, reader.line_span)
        command = rule_reader.command()
        if command.action not in ("append", "insert") or command.rule is None:
            raise LineError("FW001", 0, len(line), "expected a rule: -A CHAIN followed by its options")
        for code, wstart, wend, message in rule_reader.warnings:
            reader.report(code, 1, wstart, wend, message)
        rules = reader._rules_of(command, None)
    except LineError as err:
        reader.report(err.code, 1, err.start, err.end, err.message, help=err.help)
        return None, reader.diagnostics
    rule = rules[0][0]
    if span is not None:
        rule = Rule(rule.chain, rule.match, rule.target, rule.comment, span, None, line)
    return rule, reader.diagnostics
