"""``fwc query FILE --packet "tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new]"``.

Walks one packet through the rules the way the kernel does and prints the verdict, the
path through the chains and the rule that decided (its policy line when FILE is a
policy). The chain is INPUT unless the packet says otherwise: ``out IFACE`` alone means
OUTPUT, ``in`` and ``out`` together FORWARD; ``--chain`` overrides.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..analysis.chains import Outcome, Step, evaluate
from ..analysis.packet import Packet, PacketSyntaxError, parse_packet
from ..diagnostics import FwcError
from ..document import Document
from ..model import BUILTIN_CHAINS, Rule, Ruleset

NAME = "query"
HELP = "Show what the rules do with one packet: verdict, path through the chains, deciding rule."
JSON_VERSION = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a rules-save file, a policy (.fw) or a "
                        "provisioning file")
    parser.add_argument("--packet", "-p", required=True, metavar="PACKET",
                        help='e.g. "tcp 203.0.113.5:40000 -> 10.0.0.1:22 in eth0 [state new]"')
    parser.add_argument("--table", "-t", default="filter", help="table to walk (default filter)")
    parser.add_argument("--chain", "-c", help="built-in chain to start from (default: from the "
                        "packet's interfaces: INPUT, OUTPUT or FORWARD)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    try:
        packet = parse_packet(args.packet)
    except PacketSyntaxError as exc:
        print(f"fwc: error: --packet: {exc.args[0]}\n  {exc.text}\n  {' ' * (exc.col - 1)}^",
              file=sys.stderr)
        return 2
    document = _load(args.file, packet.family)
    ruleset = document.ruleset(packet.family)
    if ruleset is None:
        raise FwcError(f"{args.file} has no IPv{packet.family} rules for this IPv{packet.family} packet")
    chain = args.chain or default_chain(packet)
    table = ruleset.table(args.table)
    if table is None:
        raise FwcError(f"{args.file} has no {args.table} table for IPv{packet.family}")
    if chain not in BUILTIN_CHAINS.get(args.table, ()) or table.chain(chain) is None:
        raise FwcError(f"{chain} is not a built-in chain of the {args.table} table here")
    outcome = evaluate(packet, table, chain, packet.family)
    report = build_report(document, ruleset, args.table, chain, packet, outcome)
    report["alternatives"] = alternatives(document, table, chain, packet, outcome)
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report))
    return 0


def _load(path: str, family: int) -> Document:
    from ..load import load_document

    return load_document(path)


def default_chain(packet: Packet) -> str:
    if packet.oif and packet.iif:
        return "FORWARD"
    if packet.oif:
        return "OUTPUT"
    return "INPUT"


def _rule_info(document: Document, rule: Rule | None) -> dict | None:
    if rule is None:
        return None
    info: dict = {"text": rule.text.strip() if rule.text else None}
    if rule.span is not None:
        info.update(path=rule.span.path, line=rule.span.line, col=rule.span.col)
        source = document.source_for(rule.span.path)
        if source is not None:
            info["source_line"] = source.line(rule.span.line).strip()
    return info


def _step(document: Document, step: Step) -> dict:
    return {"chain": step.chain, "index": step.index, "action": step.action,
            "uncertain": step.uncertain, "rule": _rule_info(document, step.rule)}


def build_report(document: Document, ruleset: Ruleset, table: str, chain: str,
                 packet: Packet, outcome: Outcome) -> dict:
    decided = {"kind": "rule" if outcome.rule is not None else "policy",
               "chain": outcome.chain, "index": outcome.index,
               "rule": _rule_info(document, outcome.rule)}
    if outcome.rule is None:
        base = ruleset.table(table).chain(chain)
        if base.span is not None:
            decided["policy_span"] = {"path": base.span.path, "line": base.span.line,
                                      "col": base.span.col}
    return {
        "version": JSON_VERSION, "file": document.path, "kind": document.kind,
        "packet": str(packet), "family": packet.family, "table": table, "chain": chain,
        "verdict": outcome.verdict, "decided_by": decided,
        "path": [_step(document, s) for s in outcome.steps],
        "uncertain": [_step(document, s) for s in outcome.uncertain],
    }


MAX_ALTERNATIVES = 5


def alternatives(document: Document, table, chain: str, packet: Packet,
                 outcome: Outcome) -> list[dict]:
    """What happens if an unmodelled rule on the path does match (one at a time)."""
    out = []
    for step in outcome.uncertain[:MAX_ALTERNATIVES]:
        other = evaluate(packet, table, chain, packet.family,
                         assume_matching=frozenset({id(step.rule)}))
        out.append({"if_matches": {"chain": step.chain, "index": step.index,
                                   "rule": _rule_info(document, step.rule)},
                    "verdict": other.verdict,
                    "decided_by": {"kind": "rule" if other.rule is not None else "policy",
                                   "chain": other.chain, "index": other.index,
                                   "rule": _rule_info(document, other.rule)}})
    return out


def _where(info: dict | None) -> str:
    if not info or "line" not in info:
        return ""
    return f"{info['path']}:{info['line']}:{info['col']}"


def render_text(report: dict) -> str:
    lines = [f"packet:  {report['packet']}",
             f"verdict: {report['verdict']}  ({report['table']} {report['chain']}, "
             f"IPv{report['family']})", "path:"]
    for step in report["path"]:
        rule = step["rule"]
        if step["action"] == "policy":
            lines.append(f"  {step['chain']}: no rule decided, policy {report['verdict']}")
        elif step["action"] == "return":
            lines.append(f"  {step['chain']}: end of chain, back to the caller")
        else:
            note = "  (unmodelled match: assumed not to match)" if step["uncertain"] else ""
            lines.append(f"  {step['chain']} rule {step['index']}: {step['action']}  "
                         f"{_where(rule)}  {rule.get('source_line') or rule.get('text') or ''}{note}")
    decided = report["decided_by"]
    if decided["kind"] == "rule":
        rule = decided["rule"]
        what = "policy line" if report["kind"] == "policy" else "rule"
        lines.append(f"decided by {what}: {_where(rule)}: {rule.get('source_line') or rule.get('text')}")
    else:
        span = decided.get("policy_span")
        where = f" ({span['path']}:{span['line']}:{span['col']})" if span else ""
        lines.append(f"decided by the {decided['chain']} policy{where}")
    if report["uncertain"]:
        lines.append(f"note: {len(report['uncertain'])} rule(s) with a match fwc does not model "
                     "were assumed not to match; the verdict may differ:")
    for alt in report.get("alternatives", ()):
        assumed, decided = alt["if_matches"], alt["decided_by"]
        by = (f"{decided['chain']} rule {decided['index']}" if decided["kind"] == "rule"
              else f"the {decided['chain']} policy")
        lines.append(f"  if {assumed['chain']} rule {assumed['index']} matches: "
                     f"{alt['verdict']} (by {by})")
    return "\n".join(lines) + "\n"
