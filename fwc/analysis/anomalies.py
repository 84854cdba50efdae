"""Rule-order anomalies of one ruleset, computed once and shared by FW201-FW209.

Within a chain a packet reaches rule *R* only if no earlier rule with a terminal target
(``ACCEPT``, ``DROP``, ``REJECT``, ``RETURN``, ``-g``, NAT ...) matched it. So *R* is
dead when the earlier terminal rules together cover *R*'s packets; which of them take
its packets (first match wins) says whether it is shadowed (some verdict differs) or
redundant (every one has *R*'s verdict). Only rules without opaque conditions can
cover; a rule with one can still be found dead, since it matches at most what its
modelled conditions allow. ``-j CHAIN`` covers only when the chain always decides
(no RETURN, no goto, an unconditional verdict last: the ``LOGDROP`` idiom); otherwise
the packet may come back.

Speed. Each rule is compared only with earlier terminal rules that can overlap it: an
index files every such rule under the first of its destination address, source address
or destination port that is narrow (one /24 of IPv4, one /64 of IPv6, one 64-port
block), or on a short "wide" list otherwise. Real chains (kube-proxy's thousands of
``-d IP/32 --dport P`` rules, blocklists of /24s) therefore cost about one dictionary
probe per rule. Informational checks (FW207 correlated, FW208 generalization) look at
no more than ``MAX_PAIRS_PER_RULE`` candidates per rule and report at most
``MAX_RELATED`` rules per finding; a subtraction that splits into more than
``MAX_FRAGMENTS`` cubes is abandoned (the rule is then not reported: never a false
finding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from operator import ne

from ..gcpause import collector_paused
from ..model import (TERMINAL_TARGETS, Addr, Chain, Fragment, Icmp, Iface, Opaque, Ports, Proto,
                     Rate, Rule, Ruleset, State, Table, TcpFlags)
from . import intervals as iv
from . import space as sp
from .chains import (ACCEPT, CONTINUE, DROP, GOTO, JUMP, OTHER, REJECT, RETURN, chains_by_name,
                     lowered, lowered_fields)
from .compile import FIRST_FRAGMENT, ICMP4, ICMP6, PORT_PROTOCOLS, TCP, protocol_number

MAX_PAIRS_PER_RULE = 64
MAX_RELATED = 10
MAX_FRAGMENTS = 512

SHADOWED, REDUNDANT, DUPLICATE, AFTER_CATCH_ALL, CORRELATED, GENERALIZATION, UNMATCHABLE = (
    "shadowed", "redundant", "duplicate", "after-catch-all", "correlated", "generalization",
    "unmatchable")


@dataclass(slots=True)
class RuleRef:
    table: Table
    chain: Chain
    index: int  # 1-based
    rule: Rule

    @property
    def where(self) -> str:
        return f"rule {self.index} of {self.table.name}/{self.chain.name}"


@dataclass
class Anomaly:
    kind: str
    ref: RuleRef
    related: list[RuleRef] = field(default_factory=list)
    witness: sp.Cube | None = None  # a cube to draw an example packet from


@dataclass(slots=True)
class _Entry:
    rule: Rule
    space: tuple
    order: int  # the rule's 1-based position
    is_class: bool = False  # only names an interface or a state (see _is_traffic_class)
    # The fields a single-cube entry restricts (a point is inside when these hold).
    fields: tuple = ()


class _CoverIndex:
    """Earlier terminal rules of one chain, filed by a narrow field."""

    FIELDS = (sp.DST, sp.SRC, sp.DPORT)

    def __init__(self, table: Table, chain: Chain, family: int):
        self.table, self.chain = table, chain
        addr_shift = 8 if family == 4 else 64
        shifts = {sp.DST: addr_shift, sp.SRC: addr_shift, sp.DPORT: 6}
        # (field, shift, buckets) in filing order: one tuple to unpack per field and rule.
        self.filings = tuple((f, shifts[f], {}) for f in self.FIELDS)
        # The filings with some bucket: the corner test looks in these only.
        self.filled: tuple = ()
        self.wide: list[_Entry] = []
        # Traffic classes (-i lo, --ctstate ESTABLISHED) overlap nearly every rule but
        # matter only when a rule may be covered: kept apart from the candidates.
        self.classes: list[_Entry] = []
        # Whether some traffic class holds a corner, by the corner's (iif, oif, state):
        # classes restrict nothing else, and nearly every rule leaves these fields free.
        self._class_corners: dict[tuple, bool] = {}
        # What the traffic classes take of a cube, by its (iif, oif, state) (see
        # cover_by_classes).
        self._class_covers: dict[tuple, tuple] = {}
        self.full = sp.universe(family).full

    def add(self, rule: Rule, space: tuple, order: int, fields: tuple) -> _Entry:
        """File a terminal, modelled rule whose packets ``space`` no later rule gets
        (``fields``: the fields it restricts, see _restricted_fields)."""
        is_class = len(space) == 1 and _CLASS_FIELDS.issuperset(fields)  # _is_traffic_class()
        entry = _Entry(rule, space, order, is_class, fields)
        if is_class:
            self.classes.append(entry)
            self._class_corners.clear()
            self._class_covers.clear()
            return entry
        first, last = space[0], space[-1]
        for f, shift, buckets in self.filings:
            key = first[f][0][0] >> shift
            if key == last[f][-1][1] >> shift:  # the whole field in one bucket
                fields = entry.fields
                if fields and fields[0] == f:
                    # A corner looked up in this bucket is near the entry in this field:
                    # the corner test (_any_holds) tries the other fields first.
                    entry.fields = fields[1:] + fields[:1]
                entries = buckets.get(key)
                if entries is None:
                    if not buckets:
                        self.filled = tuple(filing for filing in self.filings
                                            if filing[2] or filing[0] == f)
                    buckets[key] = [entry]
                else:
                    entries.append(entry)
                return entry
        self.wide.append(entry)
        return entry

    def ref(self, entry: _Entry) -> RuleRef:
        """The entry's rule as findings name it (made only for the rules reported)."""
        return RuleRef(self.table, self.chain, entry.order, entry.rule)

    def candidates(self, space: tuple) -> list[_Entry]:
        """Earlier entries, traffic classes aside, that may overlap ``space`` (a superset),
        in rule order."""
        found = list(self.wide)
        sources = 1 if found else 0
        for f, shift, buckets in self.filings:
            if not buckets:
                continue
            values = space[0][f] if len(space) == 1 else iv.normalize(r for c in space for r in c[f])
            for lo, hi in values:
                first, last = lo >> shift, hi >> shift
                if first == last:  # the usual narrow value: one bucket
                    entries = buckets.get(first)
                    if entries:
                        found.extend(entries)
                        sources += 1
                elif last - first < 64:
                    for key in range(first, last + 1):
                        entries = buckets.get(key)
                        if entries:
                            found.extend(entries)
                            sources += 1
                else:
                    found.extend(e for key, entries in buckets.items() if first <= key <= last
                                 for e in entries)
                    sources += 2
        if sources > 1:  # each source list is in rule order already
            found.sort(key=_ORDER)
        return found

    def corners_held(self, space: tuple) -> bool:
        """A cheap necessary test for coverage: the lowest corner of each cube is matched
        by some earlier entry or traffic class (most rules fail it; no subtraction is
        needed then). An entry holding a corner is filed under the corner's own bucket
        (or is wide), so no candidate list is built for it. Runs for every rule: one
        call, the bucket lookups written out."""
        for cube in space:
            if self.wide and _any_holds(self.wide, cube):
                continue
            for f, shift, buckets in self.filled:
                entries = buckets.get(cube[f][0][0] >> shift)
                if entries and _any_holds(entries, cube):
                    break
            else:
                if not self.classes:
                    return False
                # classes_hold(), without the call
                held = self._class_corners.get(
                    (cube[sp.IIF][0][0], cube[sp.OIF][0][0], cube[sp.STATE][0][0]))
                if held is None:
                    held = self.classes_hold(cube)
                if not held:
                    return False
        return True

    def cover_by_classes(self, cube: sp.Cube) -> tuple[list[_Entry], list | None] | None:
        """_cover((cube,), self.classes), or None when the shortcut does not apply.

        Traffic classes restrict only (iif, oif, state), so what they take of a cube,
        and which of them take some, depends on those three fields alone: it is worked
        out once per distinct triple on the full cube with them, and the other fields
        are the cube's own. (Every covered rule of a long chain meets the loopback and
        established classes first: two cube subtractions each, without this.)"""
        full = self.full
        top = full[sp.DST][0][1]
        if cube[sp.DST][-1][1] > top or cube[sp.SRC][-1][1] > top:
            return None  # an address of the other family: not inside the full field
        key = cube[_CLASS_FIRST:_CLASS_END]
        known = self._class_covers.get(key)
        if known is None:
            projected = full[:_CLASS_FIRST] + key + full[_CLASS_END:]
            known = self._class_covers[key] = _cover((projected,), self.classes)
        takers, pieces = known
        if pieces:
            head, tail = cube[:_CLASS_FIRST], cube[_CLASS_END:]
            pieces = [head + piece[_CLASS_FIRST:_CLASS_END] + tail for piece in pieces]
        return list(takers), pieces

    def classes_hold(self, cube: sp.Cube) -> bool:
        """Some traffic class matches the lowest corner of ``cube``."""
        if not self.classes:
            return False
        key = (cube[sp.IIF][0][0], cube[sp.OIF][0][0], cube[sp.STATE][0][0])
        held = self._class_corners.get(key)
        if held is None:
            held = self._class_corners[key] = _any_holds(self.classes, cube)
        return held


_ENDS: dict[int, tuple[Table, dict[str, bool]]] = {}


def always_ends(table: Table, name: str) -> bool:
    """True when every packet that enters user chain ``name`` is decided there, so a
    jump to it ends the walk like a verdict (``-j LOGDROP`` = LOG, then DROP): the chain
    has no RETURN and no goto, and its last rule is an unconditional verdict."""
    return _jump_ends(table, name, _known_ends(table), _target_kinds(table))


def _jump_ends(table: Table, name: str, known: dict[str, bool], kinds: dict[str, str]) -> bool:
    """always_ends(), given the table's answers so far and its target kinds."""
    ends = known.get(name)
    if ends is None:
        ends = known[name] = _ends(table, name, kinds)
    return ends


def _known_ends(table: Table) -> dict[str, bool]:
    """always_ends() answers so far for ``table``, by chain name."""
    cached = _ENDS.get(id(table))
    if cached is None or cached[0] is not table:
        if len(_ENDS) > 64:
            _ENDS.clear()
        cached = (table, {})
        _ENDS[id(table)] = cached
    return cached[1]


def _ends(table: Table, name: str, kinds: dict[str, str]) -> bool:
    chain = chains_by_name(table).get(name)
    if chain is None or not chain.rules or chain.rules[-1].match.conds:
        return False  # the usual case, decided without looking at every rule
    if _kind(chain.rules[-1].target, kinds) in (CONTINUE, JUMP):
        return False  # (Kubernetes service chains end in a jump: no need to look further)
    return not any(_kind(rule.target, kinds) in (RETURN, GOTO) for rule in chain.rules)


def _kind(target, kinds: dict[str, str]) -> str:
    """target_kind() of a rule's target, from the table's _target_kinds()."""
    if target is None:
        return CONTINUE
    kind = kinds.get(target.name, CONTINUE)
    return GOTO if kind is JUMP and target.goto else kind


def _ORDER(entry: _Entry) -> int:
    return entry.order


def analyse_ruleset(ruleset: Ruleset, *, order_dependencies: bool = True) -> list[Anomaly]:
    """Every anomaly of ``ruleset``; without ``order_dependencies`` no CORRELATED or
    GENERALIZATION ones (the others are the same either way)."""
    out: list[Anomaly] = []
    size = sum(len(chain.rules) for table in ruleset.tables for chain in table.chains)
    with collector_paused(freeze=size > _FREEZE_ABOVE):
        for table in ruleset.tables:
            kinds, ends = _target_kinds(table), _known_ends(table)
            for chain in table.chains:
                if chain.rules:  # (Kubernetes dumps: tens of thousands of small chains)
                    out.extend(_analyse_chain(table, chain, ruleset.family, order_dependencies,
                                              kinds, ends))
    return out


# Rules in a ruleset above which the analysis's survivors are frozen (see fwc.gcpause).
_FREEZE_ABOVE = 20_000


def analyse_chain(table: Table, chain: Chain, family: int, *,
                  order_dependencies: bool = True) -> list[Anomaly]:
    if not chain.rules:
        return []
    return _analyse_chain(table, chain, family, order_dependencies, _target_kinds(table),
                          _known_ends(table))


def _analyse_chain(table: Table, chain: Chain, family: int, order_dependencies: bool,
                   kinds: dict[str, str], ends: dict[str, bool]) -> list[Anomaly]:
    """analyse_chain(), given the table's _target_kinds() and _known_ends()."""
    out: list[Anomaly] = []
    rules = chain.rules
    if len(rules) == 1:  # nothing to compare with: only FW209 can apply
        rule = rules[0]
        if _may_contradict(rule.match) and not lowered(rule.match, family)[0]:
            out.append(Anomaly(UNMATCHABLE, RuleRef(table, chain, 1, rule)))
        return out
    index: _CoverIndex | None = None  # made on the first terminal rule
    full = sp.universe(family).full
    seen: dict[tuple, int] = {}  # duplicate key -> the first rule's position
    unlowered: dict = {}  # target key -> [(index, rule)] skipped so far, for FW203
    lowered_targets: set = set()  # target keys with a rule in ``seen``
    catch_all: RuleRef | None = None
    last = len(rules)
    for i, rule in enumerate(rules, 1):
        if catch_all is not None:
            out.append(Anomaly(AFTER_CATCH_ALL, RuleRef(table, chain, i, rule), [catch_all]))
            continue
        target = rule.target
        if target is None:
            kind = CONTINUE
            same_as = None
        else:
            kind = kinds.get(target.name, CONTINUE)  # target_kind(), one lookup
            if kind is JUMP and target.goto:
                kind = GOTO
            # The target as the tuple its equality compares (see _target_key).
            same_as = (target.name, target.args, target.goto)
        terminal = kind is not CONTINUE and kind is not JUMP or (
            kind is JUMP and i < last
            and _jump_ends(table, target.name, ends, kinds)
            and not rule.match.is_opaque)
        earlier = unlowered.pop(same_as, None) if unlowered else None
        for j, other in earlier or ():
            other_space, other_opaque = lowered(other.match, family)
            seen.setdefault(_dup_key(other, other_space, other_opaque), j)
        # Lowering every rule is the dominant cost on 100k-rule dumps: skip it when no
        # finding can come of it (no earlier rule to compare with, no later rule to
        # cover, no earlier rule with this target, conditions that cannot contradict).
        if index is None:
            if not (earlier or same_as in lowered_targets or (terminal and i < last)
                    or _may_contradict(rule.match)):
                unlowered.setdefault(same_as, []).append((i, rule))
                continue
            lowered_targets.add(same_as)  # (with an index no rule is skipped any more)
        space, opaque, fields = lowered_fields(rule.match, family)
        # Same packets, same unmodelled conditions, same target: the same rule, however
        # it is spelled (hashing the space is much cheaper than hashing the model).
        key = (space, _opaque_conds(rule) if opaque else (), same_as)
        first = seen.setdefault(key, i)  # one hash of the key, not two
        if first != i:
            out.append(Anomaly(DUPLICATE, RuleRef(table, chain, i, rule),
                               [RuleRef(table, chain, first, rules[first - 1])]))
            continue
        if not space:
            out.append(Anomaly(UNMATCHABLE, RuleRef(table, chain, i, rule)))
            continue
        if index is not None:
            # Only terminal, modelled rules have order dependencies with earlier ones.
            comparable = order_dependencies and terminal and not opaque
            may_be_covered = index.corners_held(space)
            if may_be_covered or comparable:  # (most rules of a lint gate: neither)
                found = _compare_with_earlier(i, rule, space, index, may_be_covered,
                                              comparable, full)
                if found:
                    out.extend(found)
        if terminal and not opaque:
            cover = _cover_space(rule, space)
            if cover is not space:
                fields = _restricted_fields(cover, full)
            if index is None:
                index = _CoverIndex(table, chain, family)
            index.add(rule, cover, i, fields)
            if not fields and len(cover) == 1:  # every packet (cover is space then)
                catch_all = RuleRef(table, chain, i, rule)
    return out


_KINDS: dict[int, tuple[Table, dict[str, str]]] = {}


def _target_kinds(table: Table) -> dict[str, str]:
    """target_kind() by target name for ``table`` (GOTO aside: a chain name gives JUMP),
    names it does not list being CONTINUE. Asked for every rule: one lookup instead of a
    call. Kept for the few most recent tables, like chains_by_name()."""
    cached = _KINDS.get(id(table))
    if cached is None or cached[0] is not table:
        if len(_KINDS) > 64:
            _KINDS.clear()
        # In target_kind()'s order of precedence: the later updates win.
        kinds = dict.fromkeys(chains_by_name(table), JUMP)
        kinds.update(dict.fromkeys(TERMINAL_TARGETS, OTHER))
        kinds.update((name, name) for name in (ACCEPT, DROP, REJECT, RETURN))
        cached = _KINDS[id(table)] = (table, kinds)
    return cached[1]


def _cover_space(rule: Rule, space: tuple) -> tuple:
    """The packets a terminal rule certainly takes (see _may_hide_a_port_module). A
    single cube already limited to first fragments (any port match) needs no look at
    the conditions."""
    if len(space) == 1 and space[0][sp.FRAG] == FIRST_FRAGMENT:
        return space  # what _first_fragments_only would give
    return _first_fragments_only(space) if _may_hide_a_port_module(rule) else space


def _may_hide_a_port_module(rule: Rule) -> bool:
    """``-p tcp -m tcp`` reaches the model as ``-p tcp`` alone (the reader keeps no bare
    ``-m tcp``), yet the kernel's tcp match never matches a later fragment. So a rule
    with a port protocol and no condition that shows the module covers first fragments
    only: smaller than the truth at worst, never larger."""
    has_protocol = False
    for cond in rule.match.conds:
        kind = type(cond)
        if kind is Ports or kind is TcpFlags or kind is Fragment:
            return False
        if kind is Proto and not cond.negated and cond.name in _PORT_PROTOCOL_NAMES:
            has_protocol = True
    return has_protocol


_PORT_PROTOCOL_NAMES = frozenset({"tcp", "udp", "dccp", "sctp", "udplite", "6", "17", "33", "132", "136"})


def _first_fragments_only(space: tuple) -> tuple:
    return tuple(c[:sp.FRAG] + (((0, 0),),) + c[sp.FRAG + 1:] for c in space)


def _may_contradict(match) -> bool:
    """False when the conditions certainly leave some packet (the rule cannot be FW209).

    Conservative and cheap (it runs on rules that are otherwise skipped): any negation,
    two conditions on one field, a protocol the port/ICMP/flag matches do not allow, or
    ``-f`` with a port match may contradict; the lowering then decides.
    """
    used: set[int] = set()
    protocol = None
    allowed: frozenset | None = None
    first_fragment_only = later_fragments = False
    for cond in match.conds:
        kind = type(cond)
        if kind is Opaque or kind is Rate:
            continue
        if cond.negated:
            return True
        if kind is Proto:
            fields = (sp.PROTO,)
            protocol = protocol_number(cond.name)
        elif kind is Addr:
            fields = (sp.SRC if cond.field == "src" else sp.DST,)
        elif kind is Iface:
            fields = (sp.IIF if cond.field == "in" else sp.OIF,)
        elif kind is State:
            fields = (sp.STATE,)
        elif kind is Fragment:
            fields, later_fragments = (sp.FRAG,), True
        else:
            fields, only = _PINNING[kind](cond)
            if fields is None:
                return True
            allowed = only if allowed is None else allowed & only
            first_fragment_only = True
        for f in fields:
            if f in used:
                return True
            used.add(f)
    if allowed is not None and (not allowed or (protocol is not None and protocol not in allowed)):
        return True
    return first_fragment_only and later_fragments


def _ports_pins(cond: Ports):
    if any(lo > hi for lo, hi in cond.ranges) or not cond.ranges:
        return None, None
    fields = {"sport": (sp.SPORT,), "dport": (sp.DPORT,), "ports": (sp.SPORT, sp.DPORT)}[cond.field]
    return fields, _PORT_PROTOCOLS


def _icmp_pins(cond: Icmp):
    return (sp.ICMP,), frozenset({ICMP4 if cond.version == 4 else ICMP6})


def _flags_pins(cond: TcpFlags):
    return (sp.FLAGS,), frozenset({TCP})


_PORT_PROTOCOLS = frozenset(PORT_PROTOCOLS)
_PINNING = {Ports: _ports_pins, Icmp: _icmp_pins, TcpFlags: _flags_pins}


def _dup_key(rule: Rule, space: tuple, opaque: bool) -> tuple:
    return (space, _opaque_conds(rule) if opaque else (), _target_key(rule.target))


def _target_key(target) -> tuple | None:
    """A target as the tuple Target equality compares (name, options, goto): hashed in C,
    where Target's dataclass __hash__ is a Python call, and a chain hashes several
    targets per rule."""
    return None if target is None else (target.name, target.args, target.goto)


def _opaque_conds(rule: Rule) -> tuple:
    return tuple(c for c in rule.match.conds if isinstance(c, (Opaque, Rate)))


def _compare_with_earlier(position: int, rule: Rule, space: tuple, index: _CoverIndex,
                          may_be_covered: bool, comparable: bool,
                          full: sp.Cube) -> list[Anomaly]:
    """The findings of a rule that may be covered (index.corners_held) or has order
    dependencies to look for."""
    candidates = index.candidates(space)
    if not candidates and not index.classes:
        return []
    if may_be_covered:
        takers, remaining = _cover_with_classes(space, candidates, index)
    else:  # certainly not covered
        takers, remaining = [], None
    ref = RuleRef(index.table, index.chain, position, rule)
    if remaining is not None and not remaining:
        same = all(t.rule.target == rule.target for t in takers)
        kind = REDUNDANT if same else SHADOWED
        witness = next((sp.intersect(space, t.space)[0] for t in takers
                        if t.rule.target != rule.target), None)
        return [Anomaly(kind, ref, [index.ref(t) for t in takers],
                        witness or sp.intersect(space, takers[0].space)[0])]
    if not comparable:
        return []
    if len(space) == 1 and space[0] == full:
        return []  # the chain's final catch-all: the generalisation every chain intends
    # FW207/FW208 compare with the overlapping candidates, traffic classes aside.
    candidates = [e for e in candidates if sp.overlaps(e.space, space)]
    return _order_dependencies(ref, space, candidates[:MAX_PAIRS_PER_RULE], index)


def _restricted_fields(space: tuple, full: sp.Cube) -> tuple:
    """The fields a single-cube space narrows (() for several cubes). Runs for every
    terminal rule: the comparison of the fields with the full cube's is made by map()."""
    if len(space) != 1:
        return ()
    return tuple(compress(_FIELD_NUMBERS, map(ne, space[0], full)))


_FIELD_NUMBERS = tuple(range(sp.NFIELDS))


def _any_holds(entries: list[_Entry], cube: sp.Cube) -> bool:
    """Some entry matches the lowest corner of ``cube``. Runs for several entries of
    every rule, so the test of a single-cube entry (only the fields it restricts, the
    corner read from ``cube`` as needed) is written out here."""
    for entry in entries:
        fields = entry.fields
        if not fields:
            if _holds(entry.space, [values[0][0] for values in cube]):
                return True
            continue
        restricted = entry.space[0]
        for f in fields:
            values = restricted[f]
            v = cube[f][0][0]
            if len(values) == 1:
                if v < values[0][0] or v > values[0][1]:
                    break
            elif not iv.member(values, v):
                break
        else:
            return True
    return False


def _holds(space: tuple, point: list) -> bool:
    for cube in space:
        for values, v in zip(cube, point):
            if len(values) == 1:  # nearly always: no generator for the common case
                if v < values[0][0] or v > values[0][1]:
                    break
            elif not iv.member(values, v):
                break
        else:
            return True
    return False


def _cover_with_classes(space: tuple, candidates: list[_Entry],
                        index: _CoverIndex) -> tuple[list[_Entry], list | None]:
    """_cover() of ``space`` by the candidates and the traffic classes, in rule order.
    When every class comes first (the usual -i lo and ESTABLISHED accepts at the top),
    what they take is looked up (see _CoverIndex.cover_by_classes)."""
    classes = index.classes
    if not classes:
        return _cover(space, candidates)
    if len(space) == 1 and (not candidates or candidates[0].order > classes[-1].order):
        known = index.cover_by_classes(space[0])
        if known is not None:
            takers, remaining = known
            if not remaining:  # [] (the classes take it all) or None (too many pieces)
                return takers, remaining
            return _cover(space, candidates, takers, remaining)
    return _cover(space, sorted(candidates + classes, key=_ORDER))


def _cover(space: tuple, candidates: list[_Entry], takers: list | None = None,
           remaining: list | None = None) -> tuple[list[_Entry], list | None]:
    """The earlier rules that take some of ``space`` (first match wins) and what is left
    (None when the subtraction grew too large to finish); ``takers`` and ``remaining``:
    where earlier entries left it. Skips the candidates that miss ``space``."""
    takers = [] if takers is None else takers
    remaining = list(space) if remaining is None else remaining
    for entry in candidates:
        if not sp.overlaps(remaining, entry.space):
            continue
        takers.append(entry)
        if _inside(remaining, entry):
            return takers, []  # the usual shadowing: one earlier rule takes the rest
        remaining = sp.subtract(remaining, entry.space)
        if not remaining:
            break
        if len(remaining) > MAX_FRAGMENTS:
            return takers, None
    return takers, remaining


def _inside(cubes: list, entry: _Entry) -> bool:
    """Every cube lies in a single-cube entry (only the fields it restricts can leave it)."""
    if len(entry.space) != 1:
        return False
    restricted = entry.space[0]
    for cube in cubes:
        for f in entry.fields:
            if not iv.contains(restricted[f], cube[f]):
                return False
    return True


def _order_dependencies(ref: RuleRef, space: tuple, candidates: list[_Entry],
                        index: _CoverIndex) -> list[Anomaly]:
    """FW208 (a wider later rule, other verdict, over an earlier exception) and FW207
    (partial overlap, other verdict)."""
    exceptions, correlated = [], []
    for entry in candidates:
        if entry.rule.target == ref.rule.target or entry.is_class:
            continue
        if sp.contains(space, entry.space):
            exceptions.append(entry)
        else:
            correlated.append(entry)
    out = []
    if exceptions:
        out.append(Anomaly(GENERALIZATION, ref, [index.ref(e) for e in exceptions[:MAX_RELATED]],
                           exceptions[0].space[0]))
    if correlated:
        first = correlated[0]
        out.append(Anomaly(CORRELATED, ref, [index.ref(e) for e in correlated[:MAX_RELATED]],
                           sp.intersect(space, first.space)[0]))
    return out



_CLASS_FIELDS = frozenset({sp.IIF, sp.OIF, sp.STATE})
# The class fields are adjacent: cube[_CLASS_FIRST:_CLASS_END] is (iif, oif, state).
_CLASS_FIRST, _CLASS_END = sp.IIF, sp.STATE + 1
assert (sp.OIF, sp.STATE) == (sp.IIF + 1, sp.IIF + 2)


def _is_traffic_class(space: tuple, restricted: tuple) -> bool:
    """A rule that only names an interface or a conntrack state (``-i lo``, ``--ctstate
    ESTABLISHED``): it admits a class of traffic, it is not a policy to order against.
    ``restricted``: the fields its one cube narrows (see _restricted_fields)."""
    return len(space) == 1 and _CLASS_FIELDS.issuperset(restricted)
