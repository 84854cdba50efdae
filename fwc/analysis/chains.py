"""Chain semantics as the kernel applies them, for one packet and for packet sets.

Rules are tried in order and the first one that matches with a terminal target decides:
``ACCEPT``/``DROP``/``REJECT`` (and the NAT and queue targets) end the walk; ``-j CHAIN``
enters a user chain and comes back to the next rule on ``RETURN`` or when the chain
runs out; ``-g CHAIN`` enters without a way back, so its ``RETURN`` goes to the chain
that called the current one; a built-in chain that runs out (or a ``RETURN`` in it)
applies the chain's policy. Other targets (``LOG``, ``MARK``, ``NFLOG``, no target at
all) only count the packet and the walk goes on.

:func:`evaluate` walks one packet (``fwc query``). :func:`traverse` pushes a set of
packets through a chain and records which packets each rule decides; ``mode`` says how
opaque rules (an unmodelled match or a rate limit) are read: ``"may"`` gives
over-approximations (what may be accepted: used to prove a port closed), ``"must"``
under-approximations (what is certainly accepted: used to prove a port open).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import TERMINAL_TARGETS, Chain, Match, Rule, Table
from . import space as sp
from .compile import is_opaque, lower_match_fields
from .packet import Packet

MAX_DEPTH = 64
# A set pushed through a chain is split by every rule it partly overlaps. To keep a walk
# through 100k rules linear it is kept small: past MAX_CUBES cubes, or MAX_INTERVALS
# intervals in one field, it is widened to a hull ("may": still a superset) or trimmed
# ("must": still a subset). Both are sound; they only cost precision.
MAX_CUBES = 16
MAX_INTERVALS = 32
_SPLIT_FIELDS = (sp.DST, sp.SRC, sp.DPORT, sp.SPORT)

ACCEPT, DROP, REJECT, RETURN, JUMP, GOTO, CONTINUE, OTHER = (
    "ACCEPT", "DROP", "REJECT", "RETURN", "JUMP", "GOTO", "CONTINUE", "OTHER")


_CHAIN_MAPS: dict[int, tuple[Table, dict[str, Chain]]] = {}


def chains_by_name(table: Table) -> dict[str, Chain]:
    """The table's chains by name (``Table.chain`` is a linear scan; kube-proxy tables
    hold tens of thousands of chains). Cached per table object."""
    cached = _CHAIN_MAPS.get(id(table))
    if cached is None or cached[0] is not table:
        if len(_CHAIN_MAPS) > 64:
            _CHAIN_MAPS.clear()
        cached = (table, {c.name: c for c in table.chains})
        _CHAIN_MAPS[id(table)] = cached
    return cached[1]


_VERDICT_KINDS = {ACCEPT: ACCEPT, DROP: DROP, REJECT: REJECT, RETURN: RETURN}


def target_kind(rule: Rule, table: Table, names: dict[str, Chain] | None = None) -> str:
    """How a rule's target moves the packet: one of the constants above. ``names``:
    ``chains_by_name(table)``, when the caller has it (it asks for every rule)."""
    target = rule.target
    if target is None:
        return CONTINUE
    name = target.name
    verdict = _VERDICT_KINDS.get(name)
    if verdict is not None:
        return verdict
    if name in TERMINAL_TARGETS:
        return OTHER  # NAT, queue and the like: the packet leaves this table's walk
    if name in (chains_by_name(table) if names is None else names):
        return GOTO if target.goto else JUMP
    return CONTINUE


_SPACES: dict[int, tuple] = {}


def _space(match: Match, family: int) -> tuple:
    """A match's packet set, computed once per match object (keyed by identity: hashing
    a match costs more than lowering it)."""
    return lowered(match, family)[0]


def lowered(match: Match, family: int) -> tuple[tuple, bool]:
    """(packet set, has an opaque condition) of a match, cached by identity."""
    entry = _SPACES.get(id(match))
    if entry is not None and entry[0] is match and entry[1] == family:
        return entry[2]
    return _lower_and_keep(match, family)[2]


def lowered_fields(match: Match, family: int) -> tuple[tuple, bool, tuple]:
    """(packet set, has an opaque condition, the fields a single cube restricts) of a
    match (see compile.lower_match_fields), from the same cache as :func:`lowered`."""
    entry = _SPACES.get(id(match))
    if entry is not None and entry[0] is match and entry[1] == family:
        return entry[3]
    return _lower_and_keep(match, family)[3]


def _lower_and_keep(match: Match, family: int) -> tuple:
    space, opaque, fields = lower_match_fields(match, family)
    if len(_SPACES) > 1_000_000:
        _SPACES.clear()
    entry = _SPACES[id(match)] = (match, family, (space, opaque), (space, opaque, fields))
    return entry


# --------------------------------------------------------------------------- one packet


@dataclass
class Step:
    chain: str
    index: int  # 1-based position in the chain, 0 for the chain's policy
    rule: Rule | None
    action: str  # what happened: the target kind, "policy", "return" (fall-through)
    uncertain: bool = False  # the rule has an opaque match: assumed not to match


@dataclass
class Outcome:
    verdict: str  # ACCEPT, DROP, REJECT, or a terminal target name (DNAT, QUEUE ...)
    steps: list[Step] = field(default_factory=list)
    rule: Rule | None = None  # the deciding rule, None when the policy decided
    chain: str = ""
    index: int = 0
    uncertain: list[Step] = field(default_factory=list)


def evaluate(packet: Packet, table: Table, chain_name: str, family: int,
             *, assume_matching: frozenset[int] = frozenset()) -> Outcome:
    """Walk one packet from a built-in chain; opaque rules are assumed not to match (and
    listed in ``uncertain``), except those whose ``id`` is in ``assume_matching``."""
    values = packet.values()
    base = table.chain(chain_name)
    if base is None:
        return Outcome(verdict="ACCEPT")
    stack: list[tuple[Chain, int]] = []
    chain, i = base, 0
    out = Outcome(verdict="")
    for _ in range(1_000_000):
        if i >= len(chain.rules):
            if stack:
                out.steps.append(Step(chain.name, 0, None, "return"))
                chain, i = stack.pop()
                continue
            return _decide_by_policy(out, base)
        rule = chain.rules[i]
        i += 1
        if not rule_matches(rule, values, family):
            continue
        if is_opaque(rule.match) and id(rule) not in assume_matching:
            step = Step(chain.name, i, rule, "skipped", uncertain=True)
            out.steps.append(step)
            out.uncertain.append(step)
            continue
        kind = target_kind(rule, table)
        out.steps.append(Step(chain.name, i, rule, kind))
        if kind == CONTINUE:
            continue
        if kind == RETURN:
            if not stack:
                return _decide_by_policy(out, base)
            chain, i = stack.pop()
            continue
        if kind in (JUMP, GOTO):
            if len(stack) >= MAX_DEPTH:
                raise RecursionError(f"chain {rule.target.name} nests deeper than {MAX_DEPTH} (a loop?)")
            if kind == JUMP:
                stack.append((chain, i))
            chain, i = chains_by_name(table)[rule.target.name], 0
            continue
        out.verdict = rule.target.name
        out.rule, out.chain, out.index = rule, chain.name, i
        return out
    raise RecursionError("the walk does not end (a chain loop)")


def _decide_by_policy(out: Outcome, base: Chain) -> Outcome:
    out.verdict = base.policy or "ACCEPT"
    out.chain = base.name
    out.steps.append(Step(base.name, 0, None, "policy"))
    return out


def rule_matches(rule: Rule, values: tuple, family: int) -> bool:
    for cube in _space(rule.match, family):
        if all(_member(f, v) for f, v in zip(cube, values)):
            return True
    return False


def _member(intervals, value) -> bool:
    for lo, hi in intervals:
        if value < lo:
            return False
        if value <= hi:
            return True
    return False


# --------------------------------------------------------------------------- packet sets


@dataclass
class Record:
    """Packets a rule (or a chain policy, ``rule`` None) decided during a traversal."""

    chain: str
    index: int
    rule: Rule | None
    verdict: str
    space: list
    definite: bool  # no opaque rule on the way made this uncertain


@dataclass
class Traversal:
    table: Table
    family: int
    mode: str  # "may" or "must"
    records: list[Record] = field(default_factory=list)
    stop_unless: frozenset[str] | None = None

    def decided(self, verdict: str, *, definite_only: bool = False) -> list[Record]:
        return [r for r in self.records
                if r.verdict == verdict and (r.definite or not definite_only)]


class _Stop(Exception):
    """A decision the caller asked to stop at was recorded."""


def traverse(table: Table, chain_name: str, packets: list, family: int, mode: str,
             *, stop_unless: frozenset[str] | None = None) -> Traversal:
    """Push ``packets`` through a built-in chain and record every decision.

    With ``stop_unless``, the walk ends at the first decision whose verdict is not in
    it (a lockout check only needs to know that *some* packet may get in).
    """
    result = Traversal(table, family, mode, stop_unless=stop_unless)
    base = table.chain(chain_name)
    if base is None:
        result.records.append(Record(chain_name, 0, None, "ACCEPT", list(packets), True))
        return result
    try:
        back = _walk(result, base, list(packets), True, ())
    except _Stop:
        return result
    if back:
        result.records.append(Record(base.name, 0, None, base.policy or "ACCEPT", back, True))
    return result


def _record(result: Traversal, record: Record) -> None:
    result.records.append(record)
    if result.stop_unless is not None and record.verdict not in result.stop_unless:
        raise _Stop


def _bound(packets: list, mode: str) -> list:
    if len(packets) > MAX_CUBES:
        packets = [sp.hull(packets)] if mode == "may" else packets[:MAX_CUBES]
    out = packets
    for k, cube in enumerate(packets):
        if any(len(cube[f]) > MAX_INTERVALS for f in _SPLIT_FIELDS):
            if out is packets:
                out = list(packets)
            out[k] = tuple((((x[0][0], x[-1][1]),) if mode == "may" else x[:MAX_INTERVALS])
                           if len(x) > MAX_INTERVALS else x for x in cube)
    return out


def _walk(result: Traversal, chain: Chain, packets: list, definite: bool, callers: tuple) -> list:
    """Walk ``packets`` through ``chain``; returns the packets that come back out of it."""
    may = result.mode == "may"
    table, family = result.table, result.family
    back: list = []
    remaining = packets
    for i, rule in enumerate(chain.rules, 1):
        if not remaining:
            break
        space = _space(rule.match, family)
        hit = sp.intersect(remaining, space)
        if not hit:
            continue
        kind = target_kind(rule, table)
        if kind == CONTINUE:
            continue
        opaque = is_opaque(rule.match)
        sure = definite and not opaque
        if kind in (JUMP, GOTO):
            target = chains_by_name(table)[rule.target.name]
            if target.name in callers or len(callers) >= MAX_DEPTH:
                returned = hit if may else []  # a loop: iptables-restore refuses it anyway
            else:
                returned = _walk(result, target, hit, sure, callers + (chain.name,))
            if kind == GOTO:
                back = back + (returned if (may or not opaque) else [])
                came_back = []
            else:
                came_back = returned
        else:
            if kind == RETURN:
                back = back + (hit if (may or not opaque) else [])
            else:
                _record(result, Record(chain.name, i, rule, rule.target.name, hit, sure))
            came_back = []
        if may and opaque:
            continue  # the rule may not have matched: every packet may still go on
        rest = sp.subtract(remaining, space)
        if came_back:
            rest = sp.union(rest, came_back) if may else rest + sp.subtract(came_back, rest)
        remaining = _bound(rest, result.mode)
    back = back + remaining
    return _bound(back, result.mode)
