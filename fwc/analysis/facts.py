"""Per-document analysis facts shared by the FW104, FW2xx and FW3xx checks.

Each fact is computed once per document through ``ctx.fact`` and reused by every check
that needs it: the rule-order anomalies of each ruleset, and the walks of the filter
table's INPUT chain that decide which management and sensitive ports a NEW connection
can reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..checks.base import Context
from ..diagnostics import Related
from ..gcpause import collector_paused
from ..model import Addr, Chain, Ports, Rule, Ruleset, Table
from ..source import Span
from . import intervals as iv
from . import space as sp
from .anomalies import Anomaly, RuleRef, analyse_ruleset
from .chains import Traversal, chains_by_name, lowered, traverse
from .compile import TCP, UDP, iface_intervals
from .packet import format_packet, witness

# CHECKS.md's list, used when the configuration gives none.
DEFAULT_SENSITIVE_PORTS: dict[int, str] = {
    23: "telnet", 111: "rpcbind", 139: "SMB", 445: "SMB", 3306: "MySQL",
    5432: "PostgreSQL", 6379: "Redis", 11211: "memcached", 27017: "MongoDB",
    9200: "Elasticsearch", 2375: "Docker API", 2376: "Docker API", 2379: "etcd",
    2380: "etcd", 10250: "kubelet", 6443: "Kubernetes API",
}
SSH_PORT = 22
LOOPBACK = {4: "127.0.0.0/8", 6: "::1/128"}
_INBOUND = ("INPUT", "PREROUTING")
_OUTBOUND = ("OUTPUT", "POSTROUTING")


# The checks that report the order dependencies (correlated rules, generalizations).
ORDER_DEPENDENCY_CODES = frozenset({"FW207", "FW208"})


def anomalies(ctx: Context) -> dict[int, list[Anomaly]]:
    """Rule-order anomalies per ruleset (keyed by ``id(ruleset)``); the order
    dependencies only when a check that reports them runs."""
    wanted = not ORDER_DEPENDENCY_CODES <= getattr(ctx, "skipped", frozenset())
    return ctx.fact("analysis.anomalies",
                    lambda: {id(r): analyse_ruleset(r, order_dependencies=wanted)
                             for r in ctx.rulesets})


def sensitive_ports(ctx: Context) -> dict[int, str]:
    return dict(ctx.settings.sensitive_ports) or dict(DEFAULT_SENSITIVE_PORTS)


# --------------------------------------------------------------------------- spans, witnesses


def rule_span(ref: RuleRef, ruleset: Ruleset, ctx: Context) -> Span:
    return ref.rule.span or ref.chain.span or Span(ruleset.path or ctx.document.path, 1, 1, 1, 2)


def chain_span(chain: Chain, ruleset: Ruleset, ctx: Context) -> Span:
    return chain.span or Span(ruleset.path or ctx.document.path, 1, 1, 1, 2)


def rule_text(rule: Rule) -> str:
    if rule.text:
        return rule.text.strip()
    target = f" -{'g' if rule.target.goto else 'j'} {rule.target.name}" if rule.target else ""
    return f"-A {rule.chain}{' ...' if rule.match.conds else ''}{target}"


def related(refs: list[RuleRef], ruleset: Ruleset, ctx: Context, what: str) -> tuple[Related, ...]:
    return tuple(Related(rule_span(r, ruleset, ctx), f"{what}: {r.where}: {rule_text(r.rule)}")
                 for r in refs)


def witness_text(cube: sp.Cube | None, ruleset: Ruleset, chain: str) -> str | None:
    """An example packet from ``cube``, shaped like traffic the chain really sees."""
    if cube is None:
        return None
    shaped = sp.cube_intersect(cube, context_cube(ruleset.family, chain)) or cube
    return format_packet(witness(shaped, ruleset.family))


@lru_cache(maxsize=64)  # one per family and chain: asked for every witness
def context_cube(family: int, chain: str) -> sp.Cube:
    """Packets a built-in chain can see: no output interface on the way in, no input
    interface on the way out, no fragments (the kernel reassembles for conntrack)."""
    u = sp.universe(family)
    if chain in _INBOUND:
        return u.cube(oif=((0, 0),), iif=((1, sp.IFACE_TOP),), frag=((0, 0),))
    if chain in _OUTBOUND:
        return u.cube(iif=((0, 0),), frag=((0, 0),))
    return u.cube(frag=((0, 0),))


# --------------------------------------------------------------------------- INPUT walks


def filter_input(ruleset: Ruleset) -> tuple[Table, Chain] | None:
    table = ruleset.table("filter")
    if table is None or not any(c.rules for c in table.chains):
        return None
    chain = table.chain("INPUT")
    return (table, chain) if chain is not None else None


def new_connections(family: int, ports: iv.Intervals, protos: iv.Intervals) -> list:
    """NEW connections to ``ports`` arriving on any interface but ``lo``, between
    addresses outside the loopback network (what a remote administrator or attacker can
    send)."""
    import ipaddress

    u = sp.universe(family)
    lo_net = ipaddress.ip_network(LOOPBACK[family])
    not_loopback = u.complement_field(sp.SRC, ((int(lo_net.network_address),
                                                int(lo_net.broadcast_address)),))
    not_lo = u.complement_field(sp.IIF, iface_intervals("lo"))
    # The kernel drops loopback destinations arriving elsewhere than lo before INPUT.
    cube = u.cube(proto=protos, dport=ports, state=sp.state_codes("NEW"), src=not_loopback,
                  dst=not_loopback, iif=iv.intersect(not_lo, ((1, sp.IFACE_TOP),)),
                  oif=((0, 0),), frag=((0, 0),))
    return [cube]


@dataclass
class InputWalk:
    ruleset: Ruleset
    table: Table
    chain: Chain
    walk: Traversal


def input_walks(ctx: Context, mode: str, ports: tuple[int, ...], protos: tuple[int, ...],
                name: str, *, stop_unless: frozenset[str] | None = None,
                worth_walking=None) -> list[InputWalk]:
    """One walk of filter INPUT per ruleset with rules, for NEW connections to ``ports``
    (skipped, with no records, where ``worth_walking(table)`` says nothing can come of it)."""

    def compute():
        out = []
        for ruleset in ctx.rulesets:
            found = filter_input(ruleset)
            if found is None:
                continue
            table, chain = found
            if worth_walking is not None and not worth_walking(table, ruleset.family):
                out.append(InputWalk(ruleset, table, chain, Traversal(table, ruleset.family, mode)))
                continue
            packets = new_connections(ruleset.family, iv.from_values(ports), iv.from_values(protos))
            with collector_paused():
                walk = traverse(table, "INPUT", packets, ruleset.family, mode,
                                stop_unless=stop_unless)
            out.append(InputWalk(ruleset, table, chain, walk))
        return out

    return ctx.fact(f"analysis.input.{name}.{mode}.{sorted(ports)}", compute)


def exposure_walks(ctx: Context) -> list[InputWalk]:
    """What NEW connections to SSH and the sensitive ports are certainly accepted."""
    ports = tuple(sorted(set(sensitive_ports(ctx)) | {SSH_PORT}))
    wanted = iv.from_values(ports)

    def has_candidates(table: Table, family: int) -> bool:
        return any(opens_ports_to_all(rule, family, wanted)
                   for chain in table.chains for rule in chain.rules)

    return input_walks(ctx, "must", ports, (TCP, UDP), "exposure", worth_walking=has_candidates)


def opens_ports_to_all(rule: Rule, family: int, ports: iv.Intervals) -> bool:
    """An ACCEPT rule without an unmodelled match or a source restriction, naming some of
    ``ports`` (the rules FW301/FW304 report)."""
    if rule.target is None or rule.target.name != "ACCEPT":
        return False
    has_ports = False
    for c in rule.match.conds:
        if isinstance(c, Ports):
            has_ports = True
        elif type(c) is Addr and c.field == "src" and not c.negated and \
                not isinstance(c.value, tuple) and c.value.prefixlen:
            return False  # a source network narrows every cube: no need to lower
    if not has_ports:
        return False
    space, opaque = lowered(rule.match, family)
    if opaque or not space:
        return False
    full = sp.universe(family).full
    return (all(c[sp.SRC] == full[sp.SRC] for c in space)
            and not all(c[sp.DPORT] == full[sp.DPORT] for c in space)
            and iv.overlaps(sp.project(space, sp.DPORT), ports))


def management_walks(ctx: Context) -> list[InputWalk]:
    """Whether NEW TCP connections to the management ports may be accepted (the walk
    stops at the first decision that may let one in)."""
    ports = tuple(sorted(set(ctx.settings.management_ports or (SSH_PORT,))))
    return input_walks(ctx, "may", ports, (TCP,), "management",
                       stop_unless=frozenset({"DROP", "REJECT"}))


def find_ref(table: Table, chain_name: str, index: int, rule: Rule) -> RuleRef:
    return RuleRef(table, chains_by_name(table)[chain_name], index, rule)
