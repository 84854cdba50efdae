"""The policy language front end: ``load_policy(path)`` reads a ``*.fw`` file (and its
includes) and lowers it into the shared model, one :class:`~fwc.model.Ruleset` per
family, with every problem reported as a :class:`~fwc.diagnostics.Diagnostic`.

The language is documented for users in docs/language.md; the syntax is in
grammar/policy.lark and fwc/parse/policy_syntax.py. Lowering produces conditions in the
order ``iptables-save`` prints them (base options ``-s -d -i -o -p`` first, then the
match modules), each with the ``module`` that expresses it, so the iptables-restore
backend renders exactly what ``iptables-save`` would print back.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace

from ..diagnostics import Diagnostic, Edit, Fix, FwcError, Related, Severity
from ..document import Comment
from ..gcpause import collector_paused
from ..model import (Addr, Chain, Icmp, Iface, Match, Ports, Proto, Rate, Rule, Ruleset, State,
                     Table, Target)
from ..source import SourceFile, Span
from . import icmp as icmp_names
from ._fastnew import maker
from .policy_syntax import (DefineStmt, IncludeStmt, PolicyStmt, PortRange, RawStmt, RuleStmt,
                            ServiceStmt, Statement, SyntaxProblem, did_you_mean, parse_statement,
                            split_statements, unquote)
from .services import BUILTIN_SERVICES, PORT_PROTOCOLS, PROTOCOL_NAMES

FAMILIES = (4, 6)
CHAINS = ("INPUT", "FORWARD", "OUTPUT")
DEFAULT_POLICIES = {"INPUT": "DROP", "FORWARD": "DROP", "OUTPUT": "ACCEPT"}
MULTIPORT_MAX = 15  # slots in one multiport match; a range takes two
COMMENT_MAX = 255
LOG_PREFIX_MAX = 29
IFACE_MAX = 15
# The rate limit a `log` rule gets, as ufw does.
LOG_LIMIT = (("limit", "3/min"), ("limit-burst", "10"))
LOG_LEVELS = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "error": 3, "warning": 4, "warn": 4,
              "notice": 5, "info": 6, "debug": 7}
DEFAULT_LOG_LEVEL = 4  # iptables' default; iptables-save leaves it out
STATES = ("new", "established", "related", "invalid", "untracked")
RATE_UNITS = {"second": "sec", "seconds": "sec", "sec": "sec", "s": "sec",
              "minute": "min", "minutes": "min", "min": "min", "m": "min",
              "hour": "hour", "hours": "hour", "h": "hour",
              "day": "day", "days": "day", "d": "day"}
RATE_PER = {"source": "srcip", "destination": "dstip"}
DEFAULT_BURST = 5
NAME_RE = re.compile(r"[a-z_][a-z0-9_-]*\Z")
OUTPUT_KEYS = ("target", "emit")
DIRECTIVE_RE = re.compile(r"\s*fwc:\s*output\b(.*)")

ACCEPT, DROP = Target("ACCEPT"), Target("DROP")


@dataclass
class PolicyResult:
    """What a policy compiles to. ``rulesets`` always has both families (4 and 6)."""

    rulesets: dict[int, Ruleset]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    # Header directives: {"outputs": [{"path", "resolved", "target", "emit", "span"}]}
    directives: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def load_policy(path: str | os.PathLike, *, text: str | None = None) -> PolicyResult:
    """Read and lower a policy. I/O problems with the file itself raise FwcError;
    problems in its text (and in its includes) come back as diagnostics."""
    path = str(path)
    if text is None:
        try:
            source = SourceFile.read(path)
        except IsADirectoryError:
            raise FwcError(f"{path}: is a directory, not a policy file") from None
        except OSError as exc:
            raise FwcError(f"{path}: cannot read: {exc.strerror or exc}") from None
    else:
        source = SourceFile(path, text)
    with collector_paused(freeze=len(source.text) > _FREEZE_ABOVE):
        return _Loader(path).run(source)


_FREEZE_ABOVE = 1 << 20


class _Problem(Exception):
    """Abandon the statement being lowered; carries its diagnostic."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(slots=True)
class _Value:
    """One item of a `define`, with where it was written."""

    kind: str  # port / range / addr / any / iface
    text: str
    span: Span


@dataclass(slots=True)
class _Definition:
    name: str
    values: list[_Value]
    span: Span


@dataclass(slots=True)
class _Service:
    ports: tuple  # ((protocol, ((lo, hi), ...)), ...)
    span: Span | None  # None for a built-in service


@dataclass(slots=True)
class _Address:
    """An address item after checking: a network, a range, or any."""

    cond_value: object  # ip_network, (first, last) or None for any
    version: int | None
    where: object  # its Span, or its token in the current statement
    text: str

    def bounds(self) -> tuple[int, int]:
        v = self.cond_value
        if isinstance(v, tuple):
            return int(v[0]), int(v[1])
        return int(v.network_address), int(v.broadcast_address)


@dataclass(slots=True)
class _Endpoint:
    """A `from`/`to` clause after checking: per family, the alternatives (each a tuple
    of conditions; several alternatives mean one rule each) and the ports. Shared by
    every clause that writes the same addresses and ports (large policies repeat them):
    positions, for messages, come from the clause's parse node."""

    families: frozenset
    alternatives: dict  # family -> list[tuple[Addr, ...]]
    ports: tuple | None
    versions: frozenset  # the families of the addresses written (any excluded)
    # family -> [(base options, iprange matches)] of each alternative: the address
    # part of the rules when the other side of the rule gives no address.
    alone: dict


@dataclass(slots=True)
class _ProtoAlt:
    """One protocol a rule stands for (a service may give several)."""

    name: str | None  # as written: tcp, udp, icmp, icmpv6, esp, ..., a number, or None
    families: set
    dports: tuple | None = None
    icmp: dict | None = None  # family -> [(type, code)]
    # For an alternative shared by many rules: what _emit derives from it, by family,
    # action and the rule's ports and options (see _alt_plan).
    plans: dict | None = None


class _Loader:
    def __init__(self, path: str):
        self.main = path
        self.diagnostics: list[Diagnostic] = []
        self.comments: list[Comment] = []
        self.sources: dict[str, SourceFile] = {}
        self.directives: dict = {"outputs": []}
        self.defines: dict[str, _Definition] = {}
        self.services: dict[str, _Service] = {}
        self.policies: dict[str, tuple[str, Span]] = {}
        self.rules: dict[int, dict[str, list[Rule]]] = {f: {c: [] for c in CHAINS} for f in FAMILIES}
        self.stack: list[str] = []
        self.hashlimit_names: dict[str, int] = {}
        self._addr_cache: dict[str, tuple] = {}
        # Checked `from`/`to` clauses without their ports: one item by its text, per
        # side, else by (side, negated, texts).
        self._sources: dict[str, _Endpoint] = {}
        self._destinations: dict[str, _Endpoint] = {}
        self._endpoint_cache: dict[tuple, _Endpoint] = {}
        self._ports_cache: dict[tuple | str, tuple] = {}
        self._alts_cache: dict[tuple, list[_ProtoAlt]] = {}
        self._every_protocol = [_ProtoAlt(None, {4, 6}, plans={})]  # a rule without a protocol
        # per statement
        self.path = path
        self.stmt: Statement | None = None

    # ------------------------------------------------------------------ files

    def run(self, source: SourceFile) -> PolicyResult:
        self._load_file(source, main=True)
        return PolicyResult(self._rulesets(), self.diagnostics, self.comments, self.sources,
                            self.directives)

    def _load_file(self, source: SourceFile, main: bool = False) -> None:
        path = source.path
        self.sources[path] = source
        self.stack.append(path)
        statements, comments = split_statements(source.text)
        first_line = statements[0].line if statements else None
        for c in comments:
            span = Span(path, c.line, c.col, c.line, c.col + 1 + len(c.text))
            self.comments.append(Comment(span, c.text, c.own_line))
            if main and c.own_line and (first_line is None or c.line < first_line):
                self._header_directive(c.text, span)
        for stmt in statements:
            self.path, self.stmt = path, stmt
            self._statement(stmt)
        self.stack.pop()

    def _statement(self, stmt: Statement) -> None:
        parsed = parse_statement(stmt.text)
        if isinstance(parsed, SyntaxProblem):
            line = stmt.line + parsed.line - 1
            span = Span(self.path, line, parsed.col, line, parsed.col + parsed.length)
            self.diagnostics.append(Diagnostic("FW001", Severity.ERROR, span, parsed.message,
                                               help=parsed.help))
            return
        try:
            if isinstance(parsed, RuleStmt):
                self._rule(parsed)
            elif isinstance(parsed, PolicyStmt):
                self._policy(parsed)
            elif isinstance(parsed, DefineStmt):
                self._define(parsed)
            elif isinstance(parsed, ServiceStmt):
                self._service(parsed)
            elif isinstance(parsed, IncludeStmt):
                self._include(parsed)
            elif isinstance(parsed, RawStmt):
                self._raw(parsed)
        except _Problem as problem:
            self.diagnostics.append(problem.diagnostic)

    # ------------------------------------------------------------------ helpers

    def span(self, tok) -> Span:
        """The file span of a token of the current statement."""
        off = self.stmt.line - 1
        return Span(self.path, tok.line + off, tok.column, tok.end_line + off, tok.end_column)

    def span_of(self, first, last) -> Span:
        a, b = self.span(first), self.span(last)
        return Span(a.path, a.line, a.col, b.end_line, b.end_col)

    def stmt_span(self) -> Span:
        s = self.stmt
        return _new_span(self.path, s.line, s.col, s.end_line, s.end_col)

    def problem(self, code: str, span: Span, message: str, *, help: str | None = None,
                related: tuple[Related, ...] = (), fix: Fix | None = None) -> _Problem:
        return _Problem(Diagnostic(code, Severity.ERROR, span, message, related, help, fix))

    # ------------------------------------------------------------------ header directives

    def _header_directive(self, text: str, span: Span) -> None:
        """``# fwc: output PATH [target=NAME] [emit=KIND]``: where the compiled policy goes."""
        m = DIRECTIVE_RE.match(text)
        if not m:
            return
        words = m.group(1).split()
        if not words or "=" in words[0]:
            self.diagnostics.append(Diagnostic(
                "FW001", Severity.ERROR, span, "`fwc: output` needs the path of the compiled file",
                help="write `# fwc: output user-data target=coreos`"))
            return
        entry = {"path": words[0], "resolved": os.path.normpath(os.path.join(os.path.dirname(self.main), words[0])),
                 "target": None, "emit": None, "span": span}
        for word in words[1:]:
            key, eq, value = word.partition("=")
            if not eq or key not in OUTPUT_KEYS or not value:
                guess = did_you_mean(key, OUTPUT_KEYS)
                self.diagnostics.append(Diagnostic(
                    "FW001", Severity.ERROR, span,
                    f"unknown setting `{word}` in `fwc: output`" + (f": did you mean `{guess}=`?" if guess else ""),
                    help="settings are `target=NAME` and `emit=KIND`"))
                return
            entry[key] = value
        self.directives["outputs"].append(entry)

    # ------------------------------------------------------------------ policy / define / service / include

    def _policy(self, p: PolicyStmt) -> None:
        chain_word = p.chain.value
        if chain_word not in ("input", "forward", "output"):
            guess = did_you_mean(chain_word, ("input", "forward", "output"))
            raise self.problem("FW001", self.span(p.chain), f"unknown chain `{chain_word}`" +
                               (f": did you mean `{guess}`?" if guess else ""),
                               help="a policy is set for `input`, `forward` or `output`")
        verdict = p.verdict.value
        if verdict == "reject":
            raise self.problem("FW006", self.span(p.verdict),
                               "a built-in chain's policy must be `accept` or `drop`",
                               help="iptables allows nothing else; end the rules with `reject` instead")
        if verdict not in ("accept", "drop"):
            guess = did_you_mean(verdict, ("accept", "drop"))
            raise self.problem("FW001", self.span(p.verdict), f"unknown verdict `{verdict}`" +
                               (f": did you mean `{guess}`?" if guess else ""),
                               help="a policy is `accept` or `drop`")
        chain = chain_word.upper()
        if chain in self.policies:
            first = self.policies[chain][1]
            raise self.problem("FW001", self.stmt_span(), f"the policy of `{chain_word}` is already set at {first}",
                               related=(Related(first, "first set here"),))
        self.policies[chain] = (verdict.upper(), self.stmt_span())

    def _define(self, d: DefineStmt) -> None:
        name = self._check_name(d.name, "definition")
        if name in self.defines:
            first = self.defines[name].span
            raise self.problem("FW001", self.span(d.name), f"`${name}` is already defined at {first}",
                               related=(Related(first, "first defined here"),))
        values: list[_Value] = []
        for item in d.items:
            if isinstance(item, PortRange):
                values.append(_Value("range", f"{item.lo.value}-{item.hi.value}", self.span_of(item.lo, item.hi)))
            elif item.type == "VAR":
                values.extend(self._lookup(item).values)
            else:
                kind = {"NUMBER": "port", "ADDR": "addr", "ANY": "any", "NAME": "iface"}[item.type]
                values.append(_Value(kind, item.value, self.span(item)))
        self.defines[name] = _Definition(name, values, self.span(d.name))

    def _check_name(self, tok, what: str) -> str:
        name = tok.value
        if not NAME_RE.match(name):
            raise self.problem("FW001", self.span(tok), f"`{name}` is not a valid {what} name",
                               help="names are lower case letters, digits, `_` and `-`, starting with a letter or `_`")
        return name

    def _lookup(self, var) -> _Definition:
        name = var.value[1:]
        found = self.defines.get(name)
        if found is None:
            guess = did_you_mean(name, self.defines)
            raise self.problem("FW001", self.span(var), f"`${name}` is not defined" +
                               (f": did you mean `${guess}`?" if guess else ""),
                               help=None if guess else "define it first: `define NAME = ...`")
        return found

    def _service(self, s: ServiceStmt) -> None:
        name = self._check_name(s.name, "service")
        known = self.services.get(name)
        if known is not None:
            raise self.problem("FW001", self.span(s.name), f"service `{name}` is already defined at {known.span}",
                               related=(Related(known.span, "first defined here"),))
        merged: dict[str, list[tuple[int, int]]] = {}
        proto = None
        for proto_tok, port in s.items:
            if proto_tok is not None:
                proto = proto_tok.value
            elif proto is None:
                raise self.problem("FW007", self._port_span(port),
                                   "a service port needs a protocol: write `tcp 8080` or `udp 8080`")
            for rng in self._ports([port]):
                if rng not in merged.setdefault(proto, []):
                    merged[proto].append(rng)
        self.services[name] = _Service(tuple((p, tuple(r)) for p, r in merged.items()), self.span(s.name))

    def _include(self, inc: IncludeStmt) -> None:
        rel = unquote(inc.path)
        span = self.span(inc.path)
        target = os.path.normpath(os.path.join(os.path.dirname(self.path), rel))
        if target in self.stack:
            chain = " -> ".join(self.stack[self.stack.index(target):] + [target])
            raise self.problem("FW001", span, f"include cycle: {chain}",
                               help="a file cannot include itself, directly or through other files")
        try:
            source = SourceFile.read(target)
        except IsADirectoryError:
            raise self.problem("FW001", span, f"cannot include `{rel}`: it is a directory") from None
        except OSError as exc:
            raise self.problem("FW001", span, f"cannot include `{rel}` ({target}): {exc.strerror or exc}") from None
        saved = self.path, self.stmt
        try:
            self._load_file(source)
        finally:
            self.path, self.stmt = saved

    # ------------------------------------------------------------------ raw

    def _raw(self, r: RawStmt) -> None:
        table = r.table.value
        if table != "filter":
            raise self.problem("FW001", self.span(r.table), f"`raw {table}` is not supported: a policy compiles the filter table",
                               help='write `raw filter "-A INPUT ..."`')
        from .rules_save import parse_rule  # here: most policies have no raw rule
        line = unquote(r.line)
        span = self.span(r.line)
        # The reader's columns count from the first character inside the quotes.
        inner = Span(span.path, span.line, span.col + 1, span.end_line, max(span.end_col - 1, span.col + 1))
        families = (4 if r.family.value == "ipv4" else 6,) if r.family is not None else FAMILIES
        results = {f: parse_rule(line, family=f, table="filter", span=inner, path=self.path) for f in families}
        good = {f: rule for f, (rule, diags) in results.items()
                if rule is not None and not any(d.severity is Severity.ERROR for d in diags)}
        if not good:
            # Report what the reader found for the first family tried.
            rule, diags = results[families[0]]
            for d in diags:
                self.diagnostics.append(replace(d, span=d.span if d.span and d.span.path == self.path else span))
            if not diags:
                self.diagnostics.append(Diagnostic("FW001", Severity.ERROR, span, "this raw rule could not be read"))
            return
        warnings = {d: None for f in good for d in results[f][1]}  # once, even if both families warn
        self.diagnostics.extend(warnings)
        for family, rule in good.items():
            if rule.chain not in CHAINS:
                raise self.problem("FW001", span, f"a raw rule must append to INPUT, FORWARD or OUTPUT, not `{rule.chain}`",
                                   help="a policy has only the built-in chains")
            self.rules[family][rule.chain].append(replace(rule, span=self.stmt_span(), text=self.stmt.text.strip()))

    # ------------------------------------------------------------------ rules

    def _rule(self, r: RuleStmt) -> None:
        action = r.action.value
        chain, ins, outs = self._placement(r)
        opts = self._options(r, action) if r.options else {}
        alts = self._what(r)
        if _names(alts, ("loopback",)):
            if ins or outs:
                raise self.problem("FW001", self.span(r.what.tokens[0]), "`loopback` already names the interface (`lo`)",
                                   help="write `allow loopback` or `allow in on lo`, not both")
            if chain == "FORWARD":
                raise self.problem("FW001", self.span(r.what.tokens[0]), "loopback traffic is never forwarded",
                                   help="`allow loopback` is for `in` (the default) or `out`")
            ins, outs = (["lo"], []) if chain == "INPUT" else ([], ["lo"])
        src = self._endpoint(r.source) if r.source else None
        dst = self._endpoint(r.dest) if r.dest else None
        if src is not None and src.ports is not None or dst is not None and dst.ports is not None:
            self._check_ports_have_protocol(r, alts, src, dst)  # only ports can be misplaced
        families = self._families(r, alts, src, dst)
        if "state" in opts and _names(alts, ("established", "invalid")):
            raise self.problem("FW001", self.span(opts["state"][0]), f"`{r.what.tokens[0].value}` already sets the connection state")
        self._emit(r, chain, ins, outs, alts, src, dst, families, opts, action)

    def _placement(self, r: RuleStmt) -> tuple[str, list[str], list[str]]:
        """The chain and the in/out interface names. The grammar only lets `in on` and
        `out on` follow `forward`; a bare `on` means the direction's natural side."""
        p = r.placement
        if p is None:
            return "INPUT", (), ()
        ins: list[str] = []
        outs: list[str] = []
        for side, ifaces in p.sides:
            if side == "on":
                if p.direction == "forward":
                    raise self.problem("FW001", self.span(ifaces[0]),
                                       "a forward rule must say which side: `in on IFACE` or `out on IFACE`")
                side = "out" if p.direction == "out" else "in"
            (ins if side == "in" else outs).extend(self._ifaces(ifaces))
        chain = {None: "INPUT", "in": "INPUT", "out": "OUTPUT", "forward": "FORWARD"}[p.direction]
        return chain, ins, outs

    def _ifaces(self, toks) -> list[str]:
        names = []
        for tok in toks:
            if tok.type == "VAR":
                definition = self._lookup(tok)
                for v in definition.values:
                    if v.kind != "iface":
                        raise self._wrong_kind(tok, definition, v, "an interface name")
                    names.append(self._check_iface(v.text, v.span))
            else:
                names.append(self._check_iface(tok.value, self.span(tok)))
        return names

    def _check_iface(self, name: str, span: Span) -> str:
        if len(name) > IFACE_MAX:
            raise self.problem("FW008", span, f"interface name `{name}` is longer than {IFACE_MAX} characters")
        if "+" in name[:-1]:
            raise self.problem("FW008", span, f"interface name `{name}`: `+` is only allowed at the end (a wildcard)")
        return name

    def _wrong_kind(self, use, definition: _Definition, value: _Value, wanted: str) -> _Problem:
        kinds = {"port": "a port", "range": "a port range", "addr": "an address", "any": "`any`",
                 "iface": "an interface name"}
        return self.problem(
            "FW001", self.span(use),
            f"`${definition.name}` is used here as {wanted}, but it holds {kinds[value.kind]} "
            f"(`{value.text}` at {value.span})",
            related=(Related(value.span, f"`${definition.name}` gets `{value.text}` here"),
                     Related(definition.span, "defined here")))

    # ------------------------------------------------------------------ what (protocol, service, shorthand)

    def _what(self, r: RuleStmt) -> list[_ProtoAlt]:
        """The protocols the rule stands for: one, or several for a service."""
        w = r.what
        if w is None:
            return self._every_protocol
        first = w.tokens[0]
        if w.kind == "ports":
            items = w.items
            key = (first.value, None if not items else _items_key(items))
            alts = self._alts_cache.get(key)
            if alts is None:  # shared by the rules that say the same: never changed
                ports = self._ports(items) if items else None
                alts = self._alts_cache[key] = [_ProtoAlt(first.value, {4, 6}, ports, plans={})]
            return alts
        if w.kind == "icmp":
            return [self._icmp(first, w.items)]
        if w.kind == "other":
            return [_ProtoAlt(None if first.value == "all" else first.value, {4, 6})]
        if w.kind == "number":
            return [self._protocol_number(first, w.items)]
        if w.kind == "shorthand":
            return [_ProtoAlt(first.value, {4, 6})]
        alts: list[_ProtoAlt] = []
        for tok in w.tokens:
            for proto, ranges in self._service_ports(tok):
                for alt in alts:
                    if alt.name == proto:
                        alt.dports = alt.dports + tuple(x for x in ranges if x not in alt.dports)
                        break
                else:
                    alts.append(_ProtoAlt(proto, {4, 6}, tuple(ranges)))
        return alts

    def _service_ports(self, tok):
        name = tok.value
        found = self.services.get(name)
        if found is not None:
            return found.ports
        if name in BUILTIN_SERVICES:
            return BUILTIN_SERVICES[name]
        known = set(BUILTIN_SERVICES) | set(self.services)
        guess = did_you_mean(name, known | {"tcp", "udp", "icmp", "icmpv6", "loopback", "established", "invalid"})
        raise self.problem("FW001", self.span(tok), f"unknown protocol or service `{name}`" +
                           (f": did you mean `{guess}`?" if guess else ""),
                           help=None if guess else "define it with `service NAME = tcp PORT`, or see docs/language.md for the built-in services")

    def _protocol_number(self, tok, items) -> _ProtoAlt:
        number = int(tok.value)
        if number > 255:
            raise self.problem("FW008", self.span(tok), f"protocol number {number} is out of range (0-255)")
        name = PROTOCOL_NAMES.get(number, str(number))
        if number == 0:
            name = None  # iptables: 0 means every protocol, printed as nothing
        families = {4, 6}
        if name == "icmp":
            families = {4}
        elif name == "ipv6-icmp":
            families = {6}
        ports = None
        if items:
            if name not in PORT_PROTOCOLS:
                raise self.problem("FW007", self._port_span(items[0]),
                                   f"protocol {number} has no ports: ports need tcp, udp, sctp or udplite")
            ports = self._ports(items)
        return _ProtoAlt(name, families, ports)

    def _icmp(self, tok, items) -> _ProtoAlt:
        version = 4 if tok.value == "icmp" else 6
        if not items:
            return _ProtoAlt(tok.value, {version}, icmp={version: [None]})
        found: dict[int, list] = {}
        for item in items:
            if item.kind == "name" and item.tokens[0].value == "essential":
                versions = (4, 6) if version == 4 else (6,)
                for v in versions:
                    found.setdefault(v, []).extend(x for x in icmp_names.ESSENTIAL[v] if x not in found.get(v, []))
                continue
            type_code = self._icmp_item(version, item)
            found.setdefault(version, [])
            if type_code not in found[version]:
                found[version].append(type_code)
        return _ProtoAlt(tok.value, set(found), icmp=found)

    def _icmp_item(self, version: int, item) -> tuple[int, int | None]:
        word = "icmp" if version == 4 else "icmpv6"
        if item.kind == "name":
            tok = item.tokens[0]
            name = tok.value.lower()
            table = icmp_names.TYPES[version]
            if name in table:
                return table[name]
            other = icmp_names.TYPES[10 - version]
            if name in other:
                right = "icmpv6" if version == 4 else "icmp"
                raise self.problem("FW011", self.span(tok), f"`{tok.value}` is an {'ICMPv6' if version == 4 else 'ICMP (IPv4)'} type, not an {word} one",
                                   help=f"write `{right} {tok.value}`")
            guess = did_you_mean(name, list(table) + ["essential"])
            raise self.problem("FW008", self.span(tok), f"unknown {'ICMP' if version == 4 else 'ICMPv6'} type `{tok.value}`" +
                               (f": did you mean `{guess}`?" if guess else ""),
                               help=None if guess else f"see `{'iptables -p icmp -h' if version == 4 else 'ip6tables -p icmpv6 -h'}` for the names")
        numbers = []
        for t in item.tokens:
            n = int(t.value)
            if n > 255:
                raise self.problem("FW008", self.span(t), f"ICMP {'type' if not numbers else 'code'} {n} is out of range (0-255)")
            numbers.append(n)
        return (numbers[0], numbers[1] if len(numbers) > 1 else None)

    # ------------------------------------------------------------------ ports

    def _port_span(self, item) -> Span:
        if isinstance(item, PortRange):
            return self.span_of(item.lo, item.hi)
        return self.span(item)

    def _ports(self, items) -> tuple[tuple[int, int], ...]:
        """Port items (numbers, ranges, `$name`s) as inclusive ranges, duplicates removed.
        Cached by the text of the items: large policies repeat their port lists."""
        key = _items_key(items)
        found = self._ports_cache.get(key)
        if found is None:
            found = self._ports_cache[key] = tuple(self._resolve_ports(items))
        return found

    def _resolve_ports(self, items) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for item in items:
            if isinstance(item, PortRange):
                rng = self._port_range(item.lo.value, item.hi.value, self.span_of(item.lo, item.hi))
            elif item.type == "VAR":
                definition = self._lookup(item)
                for v in definition.values:
                    if v.kind == "port":
                        rng = (self._port(v.text, v.span),) * 2
                    elif v.kind == "range":
                        lo, hi = v.text.split("-")
                        rng = self._port_range(lo, hi, v.span)
                    else:
                        raise self._wrong_kind(item, definition, v, "ports")
                    if rng not in out:
                        out.append(rng)
                continue
            else:
                p = self._port(item.value, self.span(item))
                rng = (p, p)
            if rng not in out:
                out.append(rng)
        return out

    def _port(self, text: str, span: Span) -> int:
        n = int(text)
        if n > 65535:
            raise self.problem("FW008", span, f"port {n} is out of range (0-65535)")
        return n

    def _port_range(self, lo: str, hi: str, span: Span) -> tuple[int, int]:
        a, b = self._port(lo, span), self._port(hi, span)
        if a > b:
            raise self.problem("FW008", span, f"port range {a}-{b} is backwards: the first port must not be greater than the last",
                               help=f"write `{b}-{a}`")
        return (a, b)

    def _ports_span(self, node) -> Span:
        """The span of a `from`/`to` clause's ports (``node`` is its parse node)."""
        return self.span_of(_first_token(node.ports[0]), _last_token(node.ports[-1]))

    def _check_ports_have_protocol(self, r: RuleStmt, alts, src, dst) -> None:
        for ep, node in ((src, r.source), (dst, r.dest)):
            if ep is None or ep.ports is None:
                continue
            for alt in alts:
                if alt.name not in PORT_PROTOCOLS:
                    what = f"`{alt.name}`" if alt.name else "a rule without a protocol"
                    raise self.problem("FW007", self._ports_span(node), f"ports need tcp, udp, sctp or udplite, but this is {what}",
                                       help="say the protocol, e.g. `allow tcp from 10.0.0.0/8 port 1024-65535`")
        if r.dest is not None and r.dest.ports and any(a.dports for a in alts):
            raise self.problem("FW001", self._ports_span(r.dest), "destination ports are given twice (after the protocol and after `to`)",
                               help="give them in one place, e.g. `allow tcp 22 to 10.0.0.1`")

    # ------------------------------------------------------------------ addresses

    def _endpoint(self, ep) -> _Endpoint:
        """Check a `from`/`to` clause. The result for the same addresses is cached: large
        policies repeat their networks."""
        tokens = ep.addrs.items
        if len(tokens) == 1 and ep.addrs.negated is None:  # the common case, one item
            cache = self._sources if ep.side == "from" else self._destinations
            found = cache.get(tokens[0].value)
            if found is None:
                found = cache[tokens[0].value] = self._new_endpoint(ep)
        else:
            key = (ep.side, ep.addrs.negated is not None, tuple(t.value for t in tokens))
            found = self._endpoint_cache.get(key)
            if found is None:
                found = self._endpoint_cache[key] = self._new_endpoint(ep)
        if ep.ports:
            found = replace(found, ports=self._ports(ep.ports))
        return found

    def _new_endpoint(self, ep) -> _Endpoint:
        negated = ep.addrs.negated is not None
        tokens = ep.addrs.items
        field_name = "src" if ep.side == "from" else "dst"
        if len(tokens) == 1 and not negated and tokens[0].type == "ADDR":
            return self._one_address(field_name, tokens[0])
        return self._address_list(field_name, self._addresses(ep), negated, ep)

    def _one_address(self, field_name: str, tok) -> _Endpoint:
        """The common case, a single address, network or range."""
        value, version = self._address_value(tok.value, tok)
        cond = self._addr_cond(field_name, value, False)
        family = _FAMILY_SETS[version]
        split = ((cond,), ()) if cond.module is None else ((), (cond,))
        return _Endpoint(family, {version: [(cond,)]}, None, family, {version: [split]})

    def _address_list(self, field_name: str, resolved: list[_Address], negated: bool, ep) -> _Endpoint:
        families = {a.version for a in resolved if a.version}
        if any(a.version is None for a in resolved):
            families = {4, 6}
        alternatives = {f: self._addr_alternatives(field_name, [a for a in resolved if a.version in (f, None)], negated, ep)
                        for f in FAMILIES if f in families}
        versions = frozenset(a.version for a in resolved if a.version)
        alone = {f: [_split_addresses(a) for a in alts] for f, alts in alternatives.items()}
        return _Endpoint(frozenset(families), alternatives, None, versions, alone)

    def _addresses(self, ep) -> list[_Address]:
        items: list[_Address] = []
        for tok in ep.addrs.items:
            if tok.type == "VAR":
                definition = self._lookup(tok)
                for v in definition.values:
                    if v.kind not in ("addr", "any"):
                        raise self._wrong_kind(tok, definition, v, "an address")
                    items.append(self._address(v.text, v.span))
            else:
                items.append(self._address(tok.value, tok))
        return items

    def _addr_alternatives(self, field_name: str, items: list[_Address], negated: bool, ep) -> list[tuple]:
        if not negated:
            if any(a.version is None for a in items):
                return [()]
            return [(self._addr_cond(field_name, a.cond_value, False),) for a in items]
        if any(a.version is None for a in items):
            raise self.problem("FW008", self.span(ep.addrs.negated), "`not any` matches no address at all")
        if not items:
            return [()]
        if len(items) == 1:
            return [(self._addr_cond(field_name, items[0].cond_value, True),)]
        # not {A, B, ...}: the addresses outside all of them, as ranges (one rule each).
        version = items[0].version
        top = (1 << (32 if version == 4 else 128)) - 1
        make = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        gaps, start = [], 0
        for lo, hi in sorted(a.bounds() for a in items):
            if lo > start:
                gaps.append((start, lo - 1))
            start = max(start, hi + 1)
        if start <= top:
            gaps.append((start, top))
        return [(self._addr_cond(field_name, _as_network(lo, hi, make), False),) for lo, hi in gaps]

    @staticmethod
    def _addr_cond(field_name: str, value, negated: bool) -> Addr:
        if isinstance(value, tuple):
            return _new_addr(field_name, value, negated, "iprange", None)
        return _new_addr(field_name, value, negated, None, None)

    def _address(self, text: str, where) -> _Address:
        """Check one address item; ``where`` is its Span, or its token in the current
        statement (turned into a Span only for a message)."""
        value, version = self._address_value(text, where)
        return _Address(value, version, where, text)

    def _address_value(self, text: str, where) -> tuple:
        """An address item's condition value (network, range or None for any) and its
        family, checked once per text."""
        found = self._addr_cache.get(text)
        if found is None:
            found = self._addr_cache[text] = self._check_address(text, where)
        return found

    def _check_address(self, text: str, where) -> tuple:
        if text == "any":
            return None, None
        if "-" in text:
            span = self.where(where)
            first, _, last = text.partition("-")
            a, b = self._ip(first, span, text), self._ip(last, span, text)
            if a.version != b.version:
                raise self.problem("FW008", span, f"range `{text}` mixes an IPv{a.version} and an IPv{b.version} address")
            if a > b:
                raise self.problem("FW008", span, f"range `{text}` is backwards: the first address must not be greater than the last",
                                   help=f"write `{b}-{a}`")
            return (a, b), a.version
        else:
            try:
                net = _network(text)
            except ValueError as exc:
                span = self.where(where)
                if "host bits set" in str(exc):
                    meant = ipaddress.ip_network(text, strict=False)
                    raise self.problem("FW010", span, f"`{text}` has host bits set: did you mean `{meant}`?",
                                       help=f"iptables would silently use {meant}; write the network, or the single address without a prefix",
                                       fix=Fix(f"replace with {meant}", (Edit(span, str(meant)),), safe=False)) from None
                raise self._bad_address(text, span, exc) from None
            return net, net.version

    def where(self, where) -> Span:
        return where if isinstance(where, Span) else self.span(where)

    def _ip(self, text: str, span: Span, whole: str):
        try:
            return ipaddress.ip_address(text)
        except ValueError as exc:
            raise self._bad_address(whole, span, exc) from None

    def _bad_address(self, text: str, span: Span, exc: Exception) -> _Problem:
        return self.problem("FW008", span, f"`{text}` is not a valid address, network or range ({_why_bad_address(text)})",
                            help="write an address (10.0.0.1), a network (10.0.0.0/8) or a range (10.0.0.1-10.0.0.9)")

    # ------------------------------------------------------------------ families

    def _families(self, r: RuleStmt, alts, src, dst) -> list[int]:
        """The families the rule compiles for: what the family keyword, the protocol and
        the addresses allow, or an error naming the parts that contradict each other."""
        explicit = None if r.family is None else ({4} if r.family.value == "ipv4" else {6})
        proto_families = alts[0].families if len(alts) == 1 else set().union(*(a.families for a in alts))
        families = _BOTH
        if explicit is not None:
            families = families & explicit
        if proto_families != families:
            families = families & proto_families
        if src is not None and src.families != families:
            families = families & src.families
        if dst is not None and dst.families != families:
            families = families & dst.families
        if families:
            if src is not None and not src.versions <= families or dst is not None and not dst.versions <= families:
                self._check_address_families(families, r, src, dst)
            return _IN_ORDER[families]
        constraints = []
        if explicit is not None:
            constraints.append((explicit, lambda: (self.span(r.family), f"`{r.family.value}`")))
        if proto_families != {4, 6}:
            constraints.append((proto_families, lambda: (self.span(r.what.tokens[0]), f"`{r.what.tokens[0].value}`")))
        for ep, node, word in ((src, r.source, "source"), (dst, r.dest, "destination")):
            if ep is not None and ep.families != {4, 6}:
                constraints.append((ep.families, lambda node=node, word=word: self._first_address(node, word)))
        families = {4, 6}
        seen = []
        for fams, where in constraints:
            if not families & fams:
                span, what = where()
                described = [(f, *w()) for f, w in seen]
                raise self.problem("FW011", span,
                                   f"{what} is {_family_words(fams)} but {described[-1][2]} is {_family_words(families)}: no packet can match both",
                                   related=tuple(Related(s, f"{w} is {_family_words(f)}") for f, s, w in described))
            families &= fams
            seen.append((fams, where))
        return []

    def _first_address(self, node, word: str) -> tuple[Span, str]:
        first = self._addresses(node)[0]
        return self.where(first.where), f"the {word} `{first.text}`"

    def _check_address_families(self, families, r: RuleStmt, src, dst) -> None:
        """Every address written must be used: an IPv6 address in a rule that compiles
        for IPv4 only (because of `icmp`, say) is an error, not silently dropped."""
        for ep, node in ((src, r.source), (dst, r.dest)):
            if ep is not None and not ep.versions <= families:
                for item in self._addresses(node):
                    if item.version is not None and item.version not in families:
                        raise self.problem("FW011", self.where(item.where),
                                           f"`{item.text}` is an IPv{item.version} address but this rule is {_family_words(families)} only",
                                           help="move it to a rule of its own, or drop it")

    # ------------------------------------------------------------------ options

    def _options(self, r: RuleStmt, action: str) -> dict:
        """Options by keyword: (keyword token, lowered value)."""
        opts: dict = {}
        for opt in r.options:
            kw = opt.keyword.value
            if kw in opts:
                first = opts[kw][0]
                raise self.problem("FW001", self.span(opt.keyword), f"`{kw}` is given twice",
                                   related=(Related(self.span(first), "first given here"),))
            opts[kw] = (opt.keyword, getattr(self, f"_opt_{kw}")(opt, action))
        return opts

    def _opt_state(self, opt, action):
        states = set()
        for tok in opt.args:
            name = tok.value
            if name not in STATES:
                guess = did_you_mean(name, STATES)
                raise self.problem("FW008", self.span(tok), f"unknown connection state `{name}`" +
                                   (f": did you mean `{guess}`?" if guess else ""),
                                   help="states are new, established, related, invalid and untracked")
            states.add(name.upper())
        return State(frozenset(states), module="conntrack")

    def _opt_limit(self, opt, action):
        count, unit = opt.args[0], opt.args[1]
        rest = dict(opt.args[2:])
        n = int(count.value)
        if n < 1:
            raise self.problem("FW008", self.span(count), "a rate limit must be at least 1 per unit")
        per_unit = RATE_UNITS.get(unit.value)
        if per_unit is None:
            guess = did_you_mean(unit.value, ("second", "minute", "hour", "day"))
            raise self.problem("FW008", self.span(unit), f"unknown time unit `{unit.value}`" +
                               (f": did you mean `{guess}`?" if guess else ""),
                               help="write the rate as N/second, N/minute, N/hour or N/day")
        rate = f"{n}/{per_unit}"
        burst = DEFAULT_BURST
        if "burst" in rest:
            burst = int(rest["burst"].value)
            if not 1 <= burst <= 10000:
                raise self.problem("FW008", self.span(rest["burst"]), f"burst {burst} is out of range (1-10000)")
        if "per" in rest:
            per = rest["per"]
            mode = RATE_PER.get(per.value)
            if mode is None:
                guess = did_you_mean(per.value, RATE_PER)
                raise self.problem("FW008", self.span(per), f"`per {per.value}` is not supported" +
                                   (f": did you mean `per {guess}`?" if guess else ""),
                                   help="write `per source` (or `per destination`)")
            options = (("hashlimit-upto", rate), ("hashlimit-burst", str(burst)),
                       ("hashlimit-mode", mode), ("hashlimit-name", self._hashlimit_name()))
            return Rate(options, module="hashlimit")
        options = (("limit", rate),) + ((("limit-burst", str(burst)),) if burst != DEFAULT_BURST else ())
        return Rate(options, module="limit")

    def _hashlimit_name(self) -> str:
        """A stable name (<= 15 characters) from the statement's text, so reloading the
        same policy keeps the kernel's per-source buckets."""
        text = " ".join(self.stmt.text.split())
        seen = self.hashlimit_names.get(text, 0)
        self.hashlimit_names[text] = seen + 1
        digest = hashlib.sha1(f"{text}\0{seen}".encode()).hexdigest()
        return "fwc-" + digest[:11]

    def _opt_log(self, opt, action):
        prefix, level = None, DEFAULT_LOG_LEVEL
        for arg in opt.args:
            if isinstance(arg, tuple):
                tok = arg[1]
                if tok.type == "NUMBER":
                    level = int(tok.value)
                    if level > 7:
                        raise self.problem("FW008", self.span(tok), f"log level {level} is out of range (0-7)")
                elif tok.value in LOG_LEVELS:
                    level = LOG_LEVELS[tok.value]
                else:
                    guess = did_you_mean(tok.value, LOG_LEVELS)
                    raise self.problem("FW008", self.span(tok), f"unknown log level `{tok.value}`" +
                                       (f": did you mean `{guess}`?" if guess else ""),
                                       help="levels are emerg, alert, crit, err, warning, notice, info, debug or 0-7")
            else:
                prefix = self._printable(arg, "log prefix")
                size = len(prefix.encode())  # the kernel counts bytes
                if size > LOG_PREFIX_MAX:
                    raise self.problem("FW013", self.span(arg), f"log prefix is {size} bytes long; iptables allows at most {LOG_PREFIX_MAX}")
                if not prefix:
                    raise self.problem("FW008", self.span(arg), "log prefix is empty (iptables refuses it); leave it out for the default")
        return prefix, level

    def _printable(self, tok, what: str) -> str:
        """A string's text. Control and invisible characters (a tab, a line separator)
        cannot be read back by iptables-restore, so they are an error here rather than
        in the output."""
        text = unquote(tok)
        if not text.isprintable():
            bad = next(ch for ch in text if not ch.isprintable())
            name = unicodedata.name(bad, "").lower()
            raise self.problem("FW008", self.span(tok),
                               f"{what} contains U+{ord(bad):04X}{f' ({name})' if name else ''}, which iptables-restore cannot read back",
                               help="use printable characters and plain spaces")
        return text

    def _opt_with(self, opt, action):
        tok = opt.args[0]
        if action != "reject":
            raise self.problem("FW001", self.span(opt.keyword), f"`with` sets the reply of `reject`, but this rule says `{action}`")
        if tok.value not in icmp_names.REJECT_WITH:
            guess = did_you_mean(tok.value, icmp_names.REJECT_WITH)
            raise self.problem("FW008", self.span(tok), f"unknown reject type `{tok.value}`" +
                               (f": did you mean `{guess}`?" if guess else ""),
                               help="e.g. tcp-reset, port-unreachable, host-unreachable, admin-prohibited")
        return tok

    def _opt_comment(self, opt, action):
        text = self._printable(opt.args[0], "comment")
        size = len(text.encode())  # the kernel counts bytes
        if size > COMMENT_MAX:
            raise self.problem("FW013", self.span(opt.args[0]), f"comment is {size} bytes long; iptables allows at most {COMMENT_MAX}")
        return text

    # ------------------------------------------------------------------ emitting rules

    def _emit(self, r, chain, ins, outs, alts, src, dst, families, opts, action) -> None:
        """Append the rules of one statement: one per combination of interface,
        protocol, source, destination and port chunk or ICMP type, in that order."""
        span, text = self.stmt_span(), self.stmt.text.strip()
        if opts:
            state = opts["state"][1] if "state" in opts else None
            rate = opts["limit"][1] if "limit" in opts else None
            log = opts["log"][1] if "log" in opts else None
            comment = opts["comment"][1] if "comment" in opts else None
            with_tok = opts["with"][1] if "with" in opts else None
        else:
            state = rate = log = comment = with_tok = None
        sports = src.ports if src else None
        to_ports = dst.ports if dst else None
        if ins or outs:
            iface_sets = [((Iface("in", i),) if i else ()) + ((Iface("out", o),) if o else ())
                          for i in ins or [None] for o in outs or [None]]
        else:
            iface_sets = _NO_IFACES
        with_value = with_tok.value if with_tok is not None else None
        for family in families:
            out = self.rules[family][chain]
            if dst is None:
                addr_sets = src.alone[family] if src is not None else _NO_ADDRESSES
            elif src is None:
                addr_sets = dst.alone[family]
            else:
                addr_sets = [_split_addresses(s_ + d_) for s_ in src.alternatives[family]
                             for d_ in dst.alternatives[family]]
            for alt in alts:
                if family not in alt.families:
                    continue
                dports = alt.dports if alt.dports is not None else to_ports
                plans = alt.plans
                plan = None if plans is None else plans.get((family, action, with_value, state, sports, dports))
                if plan is None:
                    plan = self._alt_plan(alt, family, action, with_tok, state, sports, dports)
                target, head_proto, tails = plan
                for ifaces in iface_sets:
                    for base, ranges in addr_sets:
                        head = base + ifaces + head_proto + ranges
                        for tail in tails:
                            conds = head + tail
                            if log is not None:
                                out.append(self._log_rule(chain, conds, log, action, comment, span, text))
                            if rate is not None:
                                conds += (rate,)
                            out.append(_new_rule(chain, _new_match(conds), target, comment, span, None, text))

    def _alt_plan(self, alt: _ProtoAlt, family: int, action: str, with_tok, state, sports, dports) -> tuple:
        """What the rules of one protocol alternative share: the target, the `-p`
        condition, and the conditions after the addresses of each rule (its port or
        ICMP match, then the state match)."""
        proto_name = _proto_name(alt.name, family)
        target = self._target(action, proto_name, family, with_tok)
        head_proto = (_proto(proto_name),) if proto_name else ()
        extra = state or _SHORTHAND_STATES.get(alt.name)
        matches = () if extra is None else (extra,)
        tails = [pc + matches for pc in _proto_alternatives(alt, proto_name, family, sports, dports)]
        plan = target, head_proto, tails
        if alt.plans is not None:
            with_value = with_tok.value if with_tok is not None else None
            alt.plans[family, action, with_value, state, sports, dports] = plan
        return plan

    def _target(self, action: str, proto: str | None, family: int, with_tok) -> Target:
        if action == "allow":
            return ACCEPT
        if action in ("deny", "drop"):
            return DROP
        if with_tok is not None:
            kinds = icmp_names.REJECT_WITH[with_tok.value]
            if family not in kinds:
                raise self.problem("FW011", self.span(with_tok), f"`{with_tok.value}` is an IPv{10 - family} reply; it cannot answer IPv{family} packets",
                                   help="use a family-neutral name such as `port-unreachable`, or add `ipv4`/`ipv6` to the rule")
            value = kinds[family]
            if value == "tcp-reset" and proto != "tcp":
                raise self.problem("FW008", self.span(with_tok), "`with tcp-reset` only works for tcp rules",
                                   help="add `tcp` to the rule, or reply with `port-unreachable`")
        else:
            value = "tcp-reset" if proto == "tcp" else icmp_names.DEFAULT_REJECT[family]
        return Target("REJECT", ("--reject-with", value))

    def _log_rule(self, chain, conds, log, action, comment, span, text) -> Rule:
        prefix, level = log
        if prefix is None:
            verdict = {"allow": "ACCEPT", "reject": "REJECT"}.get(action, "DROP")
            prefix = f"[fwc] {chain} {verdict}: "
        args = ("--log-prefix", prefix) + (("--log-level", str(level)) if level != DEFAULT_LOG_LEVEL else ())
        return Rule(chain, Match(conds + (Rate(LOG_LIMIT, module="limit"),)), Target("LOG", args), comment, span, text=text)

    # ------------------------------------------------------------------ result

    def _rulesets(self) -> dict[int, Ruleset]:
        out = {}
        for family in FAMILIES:
            chains = tuple(Chain(c, self.policies.get(c, (DEFAULT_POLICIES[c], None))[0], tuple(self.rules[family][c]),
                                 span=self.policies.get(c, (None, None))[1])
                           for c in CHAINS)
            out[family] = Ruleset(family, (Table("filter", chains),), path=self.main)
        return out


_BOTH = frozenset(FAMILIES)
_NO_IFACES = [()]
_NO_ADDRESSES = [((), ())]
# The model's constructors without the frozen dataclass __init__ (one call per rule).
_new_rule, _new_match, _new_span, _new_addr = maker(Rule), maker(Match), maker(Span), maker(Addr)
_FAMILY_SETS = {4: frozenset({4}), 6: frozenset({6})}
_IN_ORDER = {frozenset({4}): [4], frozenset({6}): [6], _BOTH: [4, 6]}

_SHORTHAND_STATES = {
    "established": State(frozenset({"RELATED", "ESTABLISHED"}), module="conntrack"),
    "invalid": State(frozenset({"INVALID"}), module="conntrack"),
}


def _names(alts, names) -> bool:
    """Whether one of the protocols a rule stands for is one of ``names``."""
    for alt in alts:
        if alt.name in names:
            return True
    return False


def _split_addresses(addrs: tuple) -> tuple[tuple, tuple]:
    """Base options (-s/-d) first, iprange matches after the protocol, as iptables-save
    prints them."""
    for a in addrs:
        if a.module is not None:
            break
    else:
        return addrs, ()
    return tuple(a for a in addrs if a.module is None), tuple(a for a in addrs if a.module is not None)


@functools.cache
def _proto(name: str) -> Proto:
    return Proto(name)


def _proto_name(name: str | None, family: int) -> str | None:
    """The protocol as iptables-save prints it (`-p NAME`), or None for every protocol."""
    if name in (None, "loopback", "established", "invalid"):
        return None
    if name in ("icmp", "icmpv6"):
        return "icmp" if family == 4 else "ipv6-icmp"
    return name


def _proto_alternatives(alt: _ProtoAlt, proto: str | None, family: int, sports, dports) -> list[tuple]:
    """The protocol-module conditions (ports or ICMP type) of each rule this protocol
    needs: one rule per ICMP type, and as many multiport rules as the ports need."""
    if alt.icmp is not None:
        types = alt.icmp.get(family, [None])
        module = "icmp" if family == 4 else "icmp6"
        return [() if tc is None else (Icmp(family, tc[0], tc[1], module=module),) for tc in types]
    if proto not in PORT_PROTOCOLS:
        return [()]
    return _port_alternatives(proto, sports, dports)


@functools.lru_cache(maxsize=65536)
def _port_alternatives(proto: str, sports, dports) -> list[tuple]:
    dports = _any_port(dports)
    sports = _any_port(sports)
    both_many = dports is not None and sports is not None and len(dports) > 1 and len(sports) > 1
    s_alts = _port_conds("sport", sports, proto, split=both_many)
    d_alts = _port_conds("dport", dports, proto, split=False)
    return [s + d for s in s_alts for d in d_alts]


def _any_port(ranges):
    """None when the ports cover everything (iptables-save prints no port then)."""
    if ranges is None or (0, 65535) in ranges:
        return None
    return ranges


@functools.lru_cache(maxsize=65536)
def _port_conds(field_name: str, ranges, proto: str, split: bool) -> list[tuple]:
    """The port conditions of each rule: one port or range per tcp/udp match, else
    multiport matches of at most 15 slots (a range takes two)."""
    if ranges is None:
        return [()]
    if len(ranges) == 1 or split:
        return [(Ports(field_name, (r,), module=proto),) for r in ranges]
    chunks, current, weight = [], [], 0
    for r in ranges:
        w = 1 if r[0] == r[1] else 2
        if weight + w > MULTIPORT_MAX:
            chunks.append(current)
            current, weight = [], 0
        current.append(r)
        weight += w
    chunks.append(current)
    return [(Ports(field_name, tuple(c), module=proto if len(c) == 1 else "multiport"),) for c in chunks]


def _as_network(lo: int, hi: int, make):
    """A CIDR when the range is exactly one, else a (first, last) range."""
    size = hi - lo + 1
    if size & (size - 1) == 0 and lo % size == 0:
        bits = 32 if make is ipaddress.IPv4Address else 128
        return ipaddress.ip_network((make(lo), bits - size.bit_length() + 1))
    return (make(lo), make(hi))


def _why_bad_address(text: str) -> str:
    """What is wrong with an address, network or range that ipaddress refused."""
    for part in text.split("-", 1):
        address, _, prefix = part.partition("/")
        kind = ipaddress.IPv6Address if ":" in address else ipaddress.IPv4Address
        try:
            parsed = kind(address)
        except ValueError as exc:
            return str(exc).replace("Expected 4 octets", "an IPv4 address has 4 numbers")
        if prefix:
            bits = 32 if parsed.version == 4 else 128
            if not prefix.isdigit() or int(prefix) > bits:
                return f"prefix length /{prefix} is more than {bits}, the size of an IPv{parsed.version} address"
    return "not an address"


def _network(text: str):
    """ipaddress.ip_network, with a shortcut for the common dotted-quad IPv4 network."""
    m = _DOTTED_QUAD(text)
    if m is not None:
        a, b, c, d, prefix = m.groups()
        a, b, c, d = int(a), int(b), int(c), int(d)
        prefixlen = 32 if prefix is None else int(prefix)
        if a <= 255 and b <= 255 and c <= 255 and d <= 255 and prefixlen <= 32:
            return ipaddress.IPv4Network(((a << 24) | (b << 16) | (c << 8) | d, prefixlen))
    return ipaddress.ip_network(text)


# Octets without leading zeros (which ipaddress refuses, with its own message).
_DOTTED_QUAD = re.compile(r"(0|[1-9]\d?\d?)\.(0|[1-9]\d?\d?)\.(0|[1-9]\d?\d?)\.(0|[1-9]\d?\d?)(?:/(\d{1,2}))?").fullmatch


def _items_key(items):
    """Port items (number, range or `$name` tokens) by their text, as a cache key."""
    if len(items) == 1 and not isinstance(items[0], PortRange):
        return items[0].value
    return tuple(x.value if not isinstance(x, PortRange) else (x.lo.value, x.hi.value) for x in items)


def _first_token(item):
    return item.lo if isinstance(item, PortRange) else item


def _last_token(item):
    return item.hi if isinstance(item, PortRange) else item


def _family_words(families) -> str:
    if families == {4}:
        return "IPv4"
    if families == {6}:
        return "IPv6"
    return "IPv4 and IPv6"
