"""Syntax of the policy language: statements, comments, the parse tree and syntax errors.

A file is split into statements (one line, or several lines while a ``{`` is open) and
``#`` comments; each statement is parsed on its own with the LALR grammar in
``grammar/policy.lark``, so one bad line gives one error and the rest is still checked.
Token positions are relative to the statement; :class:`Statement` knows its first line.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from lark import Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from .grammar import lark_parser

# --------------------------------------------------------------------------- statements


@dataclass(slots=True)
class Statement:
    """The code of one statement (comments removed, columns kept) and where it sits."""

    text: str
    line: int  # file line of the statement's first line
    col: int  # column of its first character
    end_line: int
    end_col: int  # exclusive


@dataclass(slots=True)
class RawComment:
    line: int
    col: int  # column of the `#`
    text: str  # after the `#`
    own_line: bool


def split_statements(text: str) -> tuple[list[Statement], list[RawComment]]:
    """Cut a file into statements and comments. Never fails: unbalanced braces or an
    unterminated string are left for the parser to report."""
    statements: list[Statement] = []
    comments: list[RawComment] = []
    pending: list[str] = []
    first = depth = 0
    lines = text.removeprefix("\ufeff").split("\n")  # a byte order mark is not a character
    for number, line in enumerate(lines, 1):
        if not pending and "#" not in line and '"' not in line and "{" not in line and "\r" not in line:
            # The common line: one statement (or nothing), no comment, no string, no brace.
            code = line.lstrip()
            if code:
                start = len(line) - len(code)
                statements.append(Statement(line, number, start + 1, number, len(line.rstrip()) + 1))
            continue
        if line.endswith("\r"):
            line = line[:-1]
        code, hash_at = _strip_comment(line)
        if hash_at >= 0:
            comments.append(RawComment(number, hash_at + 1, line[hash_at + 1:],
                                       not line[:hash_at].strip()))
        if not pending:
            if not code.strip():
                continue
            first = number
        pending.append(code)
        depth += code.count("{") - code.count("}") if '"' not in code else _brace_depth(code)
        if depth > 0 and number < len(lines):
            continue
        statements.append(_statement(pending, first))
        pending, depth = [], 0
    return statements, comments


def _statement(parts: list[str], first: int) -> Statement:
    start = len(parts[0]) - len(parts[0].lstrip())
    while parts and not parts[-1].strip():
        parts.pop()
    last = parts[-1].rstrip()
    return Statement("\n".join(parts), first, start + 1, first + len(parts) - 1, len(last) + 1)


def _strip_comment(line: str) -> tuple[str, int]:
    """The line without its comment, and the index of the `#` (-1 if none)."""
    if '"' not in line:
        at = line.find("#")
        return (line, -1) if at < 0 else (line[:at], at)
    in_string = escaped = False
    for i, ch in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            return line[:i], i
    return line, -1


def _brace_depth(code: str) -> int:
    depth, in_string, escaped = 0, False, False
    for ch in code:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
    return depth


# --------------------------------------------------------------------------- parse tree


@dataclass(slots=True)
class PortRange:
    lo: Token
    hi: Token


@dataclass(slots=True)
class PolicyStmt:
    chain: Token
    verdict: Token


@dataclass(slots=True)
class DefineStmt:
    name: Token
    items: list  # Token (ADDR, NUMBER, NAME, VAR, ANY) or PortRange


@dataclass(slots=True)
class ServiceStmt:
    name: Token
    items: list  # (protocol Token or None, Token or PortRange)


@dataclass(slots=True)
class IncludeStmt:
    path: Token


@dataclass(slots=True)
class RawStmt:
    family: Token | None
    table: Token
    line: Token


@dataclass(slots=True)
class Placement:
    direction: str | None  # in / out / forward / None (only `on IFACE`)
    sides: list  # (side: "in" | "out" | "on", [iface Token])


@dataclass(slots=True)
class What:
    kind: str  # ports / icmp / other / number / services / shorthand
    tokens: list  # the protocol token, or the service names
    items: list | None = None  # ports (Token / PortRange) or ICMP items


@dataclass(slots=True)
class IcmpItem:
    kind: str  # name / type / type_code
    tokens: list


@dataclass(slots=True)
class AddrSpec:
    negated: Token | None
    items: list  # ADDR / VAR / ANY tokens


@dataclass(slots=True)
class Endpoint:
    side: str  # from / to
    addrs: AddrSpec
    ports: list | None


@dataclass(slots=True)
class Option:
    keyword: Token
    args: list


@dataclass(slots=True)
class RuleStmt:
    action: Token
    placement: Placement | None = None
    family: Token | None = None
    what: What | None = None
    source: Endpoint | None = None
    dest: Endpoint | None = None
    options: list = field(default_factory=list)


class _Build(Transformer):
    """Builds the statement classes above; values are checked later, when lowering."""

    def start(self, children):
        return children[0]

    def policy_stmt(self, c):
        return PolicyStmt(c[0], c[1])

    def policy_chain(self, c):
        return c[0]

    def policy_verdict(self, c):
        return c[0]

    def define_stmt(self, c):
        return DefineStmt(c[0], c[1])

    def value_list(self, c):
        return c

    def value_item(self, c):
        return c[0]

    def port_range(self, c):
        return PortRange(c[0], c[1])

    def service_stmt(self, c):
        return ServiceStmt(c[0], c[1:])

    def service_proto_port(self, c):
        return (c[0], c[1])

    def service_port(self, c):
        return (None, c[0])

    def port_proto(self, c):
        return c[0]

    def include_stmt(self, c):
        return IncludeStmt(c[0])

    def raw_stmt(self, c):
        if len(c) == 3:
            return RawStmt(c[0][1], c[1], c[2])
        return RawStmt(None, c[0], c[1])

    def rule_stmt(self, c):
        rule = RuleStmt(c[0])
        for child in c[1:]:
            if isinstance(child, Placement):
                rule.placement = child
            elif isinstance(child, tuple):
                rule.family = child[1]
            elif isinstance(child, What):
                rule.what = child
            elif isinstance(child, Endpoint):
                if child.side == "from":
                    rule.source = child
                else:
                    rule.dest = child
            else:
                rule.options.append(child)
        return rule

    def action(self, c):
        return c[0]

    def family(self, c):
        return ("family", c[0])

    def dir_in(self, c):
        return Placement("in", [("in", c[0])] if c else [])

    def dir_out(self, c):
        return Placement("out", [("out", c[0])] if c else [])

    def dir_forward(self, c):
        return Placement("forward", c)

    def dir_on(self, c):
        return Placement(None, [("on", c[0])])

    def side_in(self, c):
        return ("in", c[0])

    def side_out(self, c):
        return ("out", c[0])

    def side_on(self, c):
        return ("on", c[0])

    def on_iface(self, c):
        return c[0]

    def iface_list(self, c):
        return c

    def iface(self, c):
        return c[0]

    def proto_ports(self, c):
        return What("ports", [c[0]], c[1] if len(c) > 1 else None)

    def proto_icmp(self, c):
        return What("icmp", [c[0]], c[1] if len(c) > 1 else None)

    def proto_other(self, c):
        return What("other", [c[0]])

    def proto_number(self, c):
        return What("number", [c[0]], c[1] if len(c) > 1 else None)

    def services(self, c):
        return What("services", list(c))

    def shorthand(self, c):
        return What("shorthand", [c[0]])

    def port_list(self, c):
        return c

    def icmp_list(self, c):
        return c

    def icmp_name(self, c):
        return IcmpItem("name", c)

    def icmp_type(self, c):
        return IcmpItem("type", c)

    def icmp_type_code(self, c):
        return IcmpItem("type_code", c)

    def from_clause(self, c):
        return Endpoint("from", c[0], c[1] if len(c) > 1 else None)

    def to_clause(self, c):
        return Endpoint("to", c[0], c[1] if len(c) > 1 else None)

    def port_clause(self, c):
        return c[0]

    def addrs(self, c):
        if len(c) == 2:
            return AddrSpec(c[0], c[1])
        return AddrSpec(None, c[0])

    def addr_list(self, c):
        return c

    def addr(self, c):
        return c[0]

    def opt_state(self, c):
        return Option(c[0], c[1])

    def state_list(self, c):
        return c

    def state_name(self, c):
        return c[0]

    def opt_limit(self, c):
        return Option(c[0], c[1:])

    def limit_burst(self, c):
        return ("burst", c[0])

    def limit_per(self, c):
        return ("per", c[0])

    def opt_log(self, c):
        return Option(c[0], c[1:])

    def log_level(self, c):
        return ("level", c[0])

    def opt_with(self, c):
        return Option(c[0], c[1:])

    def opt_comment(self, c):
        return Option(c[0], c[1:])


_BUILD = _Build()


def _parser():
    return lark_parser("policy.lark", "start", lexer="basic", propagate_positions=False)


@dataclass(slots=True)
class SyntaxProblem:
    """A syntax error, positioned relative to the statement (1-based line and column)."""

    line: int
    col: int
    length: int
    message: str
    help: str | None = None


class _Lexicon:
    """One regular expression for every terminal of the grammar, in the order lark's
    basic lexer tries them (priority, then width), with keywords recognised as names
    first, as lark does. Tokenising a statement with it is one C-level match per token."""

    def __init__(self, parser) -> None:
        name_re = re.compile(parser.get_terminal("NAME").pattern.to_regexp())
        self.keywords: dict[str, str] = {}
        parts = []
        terminals = sorted(parser.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                            -len(t.pattern.value), t.name))
        for t in terminals:
            if t.pattern.type == "str" and name_re.fullmatch(t.pattern.value):
                self.keywords[t.pattern.value] = t.name
            else:
                parts.append(f"(?P<{t.name}>{t.pattern.to_regexp()})")
        self.match = re.compile("|".join(parts)).match
        self.ignore = frozenset(parser.ignore_tokens)
        # word -> its tokens as (type, value, offset), or None when a character in it is
        # no token; words repeat a lot (keywords, ports, networks).
        self.words: dict[str, tuple | None] = {}
        # The text of a one-line statement before its last word -> the tokens there and
        # their types. Rules repeat their beginning (`allow tcp 443 from `) and differ in
        # the last word; tokens are never changed once made, so statements share them.
        self.heads: dict[str, tuple[tuple, tuple] | None] = {}

    def tokenize(self, text: str) -> tuple[list["Tok"], tuple[int, int] | None]:
        """The tokens of a statement, and the (line, column) of a character no terminal
        matches (None when the whole text is tokens)."""
        tokens, _, bad = self.tokens_and_shape(text)
        return tokens, bad

    def tokens_and_shape(self, text: str) -> tuple[list["Tok"], tuple[str, ...], tuple[int, int] | None]:
        """The tokens of a statement, their types, and the (line, column) of a character
        no terminal matches (None when the whole text is tokens).

        A one-line statement without strings is cut at white space and each word's
        tokens are looked up (no token but a string can hold white space, and every
        terminal's look-ahead stops at white space, so this equals scanning the line)."""
        plain = text.isascii() and text.isprintable()  # no line break, no odd white space
        if '"' in text or not plain and ("\n" in text or _ODD_SPACE(text)):
            return self._scan_with_shape(text)
        if plain:  # printable ASCII: the only white space is the space
            body = text.rstrip(" ")
            at = body.rfind(" ") + 1
            last = body[at:]
        else:
            words = text.split()
            last = words[-1] if words else ""
            at = len(text.rstrip()) - len(last)  # split() and rstrip() agree on white space
        if not last:
            return [], (), None
        head_text = text[:at]
        head = self.heads.get(head_text, False)
        if head is False:
            head = self._words(text, head_text.split(), 0)
            if len(self.heads) < 100_000:
                self.heads[head_text] = head
        parts = self.words.get(last, False)
        if parts is False:
            parts = self._word(last)
        if head is None or parts is None:
            return self._scan_with_shape(text)
        if len(parts) == 1:  # the last word is one token (an address, a port)
            kind, value, first, end = parts[0]
            return [*head[0], Tok(kind, value, at + first, at + end)], head[1] + (kind,), None
        tail = self._words(text, (last,), at)
        return [*head[0], *tail[0]], head[1] + tail[1], None

    def _words(self, text: str, words, pos: int) -> tuple[tuple, tuple] | None:
        """The tokens of ``words`` (found in ``text`` from ``pos`` on) and their types, or
        None when a character in one of them is no token."""
        tokens: list[Tok] = []
        append, find, known = tokens.append, text.find, self.words
        for word in words:
            parts = known.get(word, False)
            if parts is False:
                parts = self._word(word)
            if parts is None:
                return None
            pos = find(word, pos)
            for kind, value, first, end in parts:
                append(Tok(kind, value, pos + first, pos + end))
            pos += len(word)
        return tuple(tokens), tuple(t.type for t in tokens)

    def _word(self, word: str) -> tuple | None:
        m = self.match(word)
        if m is not None and m.end() == len(word) and m.lastgroup not in self.ignore:
            kind = m.lastgroup  # the common case: the word is one token
            if kind == "NAME":
                kind = self.keywords.get(word, "NAME")
            parts = ((kind, word, 1, len(word) + 1),)
        else:
            found, bad = self.scan(word)
            parts = None if bad else tuple((t.type, t.value, t.start_pos + 1, t.end_column) for t in found)
        if len(self.words) < 200_000:
            self.words[word] = parts
        return parts

    def _scan_with_shape(self, text: str):
        tokens, bad = self.scan(text)
        return tokens, tuple(t.type for t in tokens), bad

    def scan(self, text: str) -> tuple[list["Tok"], tuple[int, int] | None]:
        """Tokenise any statement, one terminal match at a time."""
        tokens: list[Tok] = []
        keywords, ignore = self.keywords, self.ignore
        pos, line, line_start, size = 0, 1, 0, len(text)
        match = self.match
        while pos < size:
            m = match(text, pos)
            if m is None:
                return tokens, (line, pos - line_start + 1)
            kind, end = m.lastgroup, m.end()
            if kind in ignore:
                if "\n" in m.group():
                    line += text.count("\n", pos, end)
                    line_start = text.rindex("\n", pos, end) + 1
            else:
                value = m.group()
                if kind == "NAME":
                    kind = keywords.get(value, "NAME")
                col = pos - line_start + 1
                tokens.append(LineTok(kind, value, line, col, col + end - pos, pos))
            pos = end
        return tokens, None


# White space that str.split() cuts at but the grammar does not skip.
_ODD_SPACE = re.compile(r"[^\S \t\f\r\n]").search


class Tok:
    """A token of a one-line statement (what the front end reads of a lark Token, made
    cheaply: large policies have hundreds of thousands)."""

    __slots__ = ("type", "value", "column", "end_column")
    line = 1

    def __init__(self, type, value, column, end_column):
        self.type, self.value, self.column, self.end_column = type, value, column, end_column

    @property
    def end_line(self) -> int:
        return self.line

    @property
    def start_pos(self) -> int:
        return self.column - 1

    def lark(self) -> Token:
        start = self.start_pos
        return Token(self.type, self.value, start, self.line, self.column, self.line,
                     self.end_column, start + len(self.value))

    def __repr__(self) -> str:
        return f"Tok({self.type!r}, {self.value!r}, {self.line}:{self.column})"


class LineTok(Tok):
    """A token of a statement that spans lines: its line and offset are its own."""

    __slots__ = ("line", "pos")

    def __init__(self, type, value, line, column, end_column, pos):
        super().__init__(type, value, column, end_column)
        self.line, self.pos = line, pos

    @property
    def start_pos(self) -> int:
        return self.pos


@functools.cache
def _lexicon() -> _Lexicon:
    return _Lexicon(_parser())


# Statements of the same shape (the same sequence of token types) have the same parse
# tree: the tree is built once per shape by lark and then re-filled with the tokens of
# every later statement of that shape. The shapes of a file are few; this makes large
# generated policies fast without a second grammar.
_SHAPES: dict[tuple[str, ...], object] = {}
_SHAPES_MAX = 4096


def parse_statement(text: str):
    """Parse one statement: the statement object, or a :class:`SyntaxProblem`."""
    tokens, shape, bad = _lexicon().tokens_and_shape(text)
    if bad is not None:
        return _bad_character(text, *bad)
    if not tokens:
        return SyntaxProblem(1, 1, 1, "empty statement")
    build = _SHAPES.get(shape)
    if build is not None:
        return build(tokens)
    lark_tokens = [t.lark() for t in tokens]
    result = _parse_tokens(text, lark_tokens)
    if isinstance(result, SyntaxProblem):
        return result
    build = _builder(result, {id(t): i for i, t in enumerate(lark_tokens)})
    if len(_SHAPES) < _SHAPES_MAX:
        _SHAPES[shape] = build
    return build(tokens)


def _parse_tokens(text: str, tokens: list[Token]):
    try:
        interactive = _parser().parse_interactive()
        for tok in tokens:
            interactive.feed_token(tok)
        return _BUILD.transform(interactive.feed_eof(tokens[-1]))
    except VisitError as exc:  # a bug in a callback: keep the position, not a traceback
        return SyntaxProblem(1, 1, 1, f"cannot read this statement: {exc.orig_exc}")
    except UnexpectedInput as exc:
        return describe_error(text, exc)
    except LarkError as exc:
        return SyntaxProblem(1, 1, 1, f"cannot read this statement: {exc}")


def _builder(node, index: dict[int, int]):
    """A function that rebuilds ``node`` from a new statement's tokens: every token of
    the original is replaced by the token at the same index.

    The function is generated as one Python expression over this module's node classes
    (only class names, token indexes and repr() of plain constants go into it), which is
    several times faster than walking the template for each of 100k statements."""
    names: dict[str, object] = {}
    source = _expression(node, index, names)
    return eval(f"lambda t: {source}", names)  # noqa: S307 - generated from our own classes


def _expression(node, index: dict[int, int], names: dict[str, object]) -> str:
    if isinstance(node, Token):
        return f"t[{index[id(node)]}]"
    if isinstance(node, list):
        return "[" + ", ".join(_expression(x, index, names) for x in node) + "]"
    if isinstance(node, tuple):
        return "(" + "".join(_expression(x, index, names) + ", " for x in node) + ")"
    if dataclasses.is_dataclass(node):
        cls = type(node)
        names[cls.__name__] = cls
        args = ", ".join(_expression(getattr(node, f.name), index, names) for f in dataclasses.fields(node))
        return f"{cls.__name__}({args})"
    if node is None or isinstance(node, (str, int)):
        return repr(node)
    raise TypeError(f"unexpected node in a parse tree: {node!r}")


# --------------------------------------------------------------------------- error words

STATEMENT_KEYWORDS = ("allow", "deny", "drop", "reject", "policy", "define", "service",
                      "include", "raw")
PORT_PROTOS = ("TCP", "UDP", "SCTP", "UDPLITE")

# Terminal name -> words, for the terminals whose meaning does not depend on context.
_WORDS = {
    "STRING": "a quoted string",
    "VAR": "a `$name`",
    "NUMBER": "a number",
    "ADDR": "an address",
    "NAME": "a name",
    "$END": "the end of the statement",
    "LBRACE": "`{`", "RBRACE": "`}`", "COMMA": "`,`", "EQUAL": "`=`", "SLASH": "`/`",
    "MINUS": "`-`",
}
_OPTIONS = ("STATE", "LIMIT", "LOG", "WITH", "COMMENT")
_PROTOCOLS = ("TCP", "UDP", "SCTP", "UDPLITE", "ICMP", "ICMPV6", "ESP", "AH", "GRE", "ALL")


def _keyword_of(terminal: str) -> str | None:
    """The keyword a terminal stands for (``FROM`` -> ``from``), if it is one."""
    try:
        pattern = _parser().get_terminal(terminal).pattern
    except (KeyError, AttributeError):
        return None
    if pattern.type == "str" and pattern.value.isalpha():
        return pattern.value
    if pattern.type == "str":
        return pattern.value
    return None


def _found(token: Token) -> str:
    if token.type == "$END":
        return "the end of the statement"
    if token.type == "STRING":
        return "a string"
    return f"`{token.value}`"


def _expected_groups(expected: set[str], prev: Token | None, open_braces: int = 0) -> list[str]:
    """Describe what the parser could accept, most likely intent first."""
    exp = set(expected)
    groups: list[str] = []
    if open_braces > 0:  # inside braces only the list can go on (LALR merges states)
        exp &= {"RBRACE", "COMMA", "MINUS", "SLASH"}
        if "RBRACE" in exp:
            groups.append("`}` to close the list")
    exp.discard("RBRACE")
    prev_type = prev.type if prev is not None else None
    prev_kw = prev.value if prev is not None else None
    if "NUMBER" in exp and prev_type in PORT_PROTOS + ("PORT",) or prev_kw == "port":
        groups.append("a port or port range")
        exp -= {"NUMBER", "VAR", "LBRACE"}
    if prev_type in ("ICMP", "ICMPV6") and "NAME" in exp:
        groups.append("an ICMP type (a name like `echo-request`, or a number)")
        exp -= {"NAME", "NUMBER", "LBRACE"}
    if "ADDR" in exp:
        groups.append("an address, network or range, `any` or a `$name`")
        exp -= {"ADDR", "VAR", "ANY", "NOT", "LBRACE"}
    if exp & set(_PROTOCOLS) and "NAME" in exp:
        groups.append("a protocol or service")
        exp -= set(_PROTOCOLS) | {"NAME", "NUMBER", "ESTABLISHED", "INVALID", "LOOPBACK"}
    if prev_kw == "state":
        groups.append("a connection state (new, established, related, invalid, untracked)")
        exp -= {"NAME", "ESTABLISHED", "INVALID"}
    if prev_kw == "policy":
        groups.append("a chain (`input`, `forward` or `output`)")
        exp = set()
    if prev is not None and prev_kw in ("input", "forward", "output") and "ACCEPT" in exp:
        groups.append("`accept` or `drop`")
        exp = set()
    if prev_kw == "on" or (prev_type == "COMMA" and "NAME" in exp and "VAR" in exp and len(exp) <= 4):
        groups.append("an interface name")
        exp -= {"NAME", "VAR", "LBRACE"}
    if exp & set(_OPTIONS) and len(exp & set(_OPTIONS)) > 1:
        groups.append("an option (`state`, `limit`, `log`, `with`, `comment`)")
        exp -= set(_OPTIONS)
    end = "$END" in exp
    exp.discard("$END")
    for terminal in sorted(exp):
        word = _keyword_of(terminal)
        groups.append(f"`{word}`" if word else _WORDS.get(terminal, terminal.lower()))
    if end:
        groups.append("the end of the statement")
    return groups


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _tokens_before(text: str, line: int, column: int) -> list[Token]:
    """The tokens of ``text`` before a position."""
    tokens, _ = _lexicon().tokenize(text)
    return [t for t in tokens if (t.line, t.column) < (line, column)]


def _did_you_mean(word: str, choices) -> str | None:
    lowered = word.lower()
    for choice in choices:
        if choice == lowered and choice != word:
            return choice
    close = difflib.get_close_matches(lowered, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def describe_error(text: str, exc: UnexpectedInput) -> SyntaxProblem:
    if isinstance(exc, UnexpectedCharacters):
        return _bad_character(text, exc.line, exc.column)
    if not isinstance(exc, UnexpectedToken):
        return SyntaxProblem(exc.line if exc.line > 0 else 1, max(exc.column, 1), 1, "cannot read this statement")
    token = exc.token
    if token.type == "$END":
        line, col = _end_position(text)
        length = 1
    else:
        line, col, length = token.line, token.column, max(len(token.value), 1)
    before = _tokens_before(text, line, col)
    prev = before[-1] if before else None
    expected = set(exc.expected)
    keywords = {w for w in (_keyword_of(t) for t in expected) if w and w.isalpha()}
    if prev is None:
        return _bad_statement_start(token, line, col, length)
    if token.type != "$END" and token.value[:1].isalpha():
        guess = _did_you_mean(token.value, keywords)
        if guess:
            return SyntaxProblem(line, col, length,
                                 f"unexpected `{token.value}` after `{prev.value}`: did you mean `{guess}`?",
                                 "keywords are lower case" if guess == token.value.lower() else None)
    open_braces = sum(t.type == "LBRACE" for t in before) - sum(t.type == "RBRACE" for t in before)
    if "COMMA" in expected and token.type == prev.type and token.type in ("ADDR", "NUMBER", "NAME", "VAR"):
        return SyntaxProblem(line, col, length, f"expected `,` between `{prev.value}` and `{token.value}`",
                             "items of a list are separated by commas")
    groups = _expected_groups(expected, prev, open_braces)
    message = f"expected {groups[0]} after `{prev.value}`, found {_found(token)}" if groups else \
        f"unexpected {_found(token)} after `{prev.value}`"
    help_text = f"also possible here: {_join(groups[1:])}" if len(groups) > 1 else None
    return SyntaxProblem(line, col, length, message, help_text)


def _bad_statement_start(token: Token, line: int, col: int, length: int) -> SyntaxProblem:
    statements = ", ".join(f"`{k}`" for k in STATEMENT_KEYWORDS)
    if token.value in ("masquerade", "dnat", "snat"):
        return SyntaxProblem(line, col, length, f"`{token.value}` (NAT) is not supported yet: a policy compiles the filter table",
                             "NAT is planned; until then keep NAT rules outside fwc")
    if token.value[:1].isalpha():
        guess = _did_you_mean(token.value, STATEMENT_KEYWORDS)
        if guess:
            help_text = "keywords are lower case" if guess == token.value.lower() else None
            return SyntaxProblem(line, col, length,
                                 f"unknown statement `{token.value}`: did you mean `{guess}`?", help_text)
        return SyntaxProblem(line, col, length, f"unknown statement `{token.value}`",
                             f"a statement starts with one of {statements}")
    return SyntaxProblem(line, col, length, f"expected a statement, found {_found(token)}",
                         f"a statement starts with one of {statements}")


def _bad_character(text: str, line: int, col: int) -> SyntaxProblem:
    lines = text.split("\n")
    ch = lines[line - 1][col - 1] if line <= len(lines) and col <= len(lines[line - 1]) else "?"
    if ch == '"':
        return SyntaxProblem(line, col, 1, "unterminated string: this `\"` has no closing `\"`")
    if ch == "$":
        return SyntaxProblem(line, col, 1, "expected a name after `$` (letters, digits, `_` and `-`)")
    if ch == "'":
        return SyntaxProblem(line, col, 1, "unexpected `'`: strings are written in double quotes")
    if ch.isspace() or not ch.isprintable():
        name = unicodedata.name(ch, "").lower()
        return SyntaxProblem(line, col, 1, f"unexpected character U+{ord(ch):04X}" + (f" ({name})" if name else ""),
                             "only spaces and tabs separate words")
    return SyntaxProblem(line, col, 1, f"unexpected character `{ch}`")


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def unquote(token: Token) -> str:
    """The text of a STRING token without its quotes, with ``\\"`` and ``\\\\`` undone."""
    body = token.value[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def did_you_mean(word: str, choices) -> str | None:
    """The closest of ``choices`` to ``word`` (case-insensitive), if any is close."""
    return _did_you_mean(word, choices)
