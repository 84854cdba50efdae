"""``fwc compile POLICY``: a policy to iptables-restore rules or a provisioning file.

    fwc compile host.fw                       # a #cloud-config on stdout
    fwc compile host.fw --emit iptables       # IPv4 iptables-restore text
    fwc compile host.fw -o user-data          # written atomically
    fwc compile host.fw -o user-data --check  # exit 1 and a diff when user-data is stale

Problems in the policy (and errors the lint gate finds in what it compiles to) are
printed as ``file:line:col: CODE message`` with the line and a caret, and the compile
stops with exit 1 before anything is written. Usage and I/O problems exit 2.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import os
import sys
from pathlib import Path

from .. import wrappers
from ..diagnostics import Diagnostic, FwcError, InputErrors, Severity
from ..document import Document
from ..fsutil import write_atomic
from ..gcpause import collector_paused
from ..source import SourceFile
from ._output import print_diagnostics

NAME = "compile"
HELP = "compile a policy to iptables-restore rules or a provisioning file"

EXIT_OK, EXIT_ERRORS = 0, 1
# Checks that compare the two families. They say nothing useful about a one-family
# output (--emit iptables): the other family is written by another command.
CROSS_FAMILY_CODES = frozenset({"FW107", "FW108"})
# The least severe finding a compile prints (info findings are for `fwc lint`).
SHOWN = Severity.WARNING


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policy", metavar="POLICY", help="the policy file (*.fw)")
    parser.add_argument("--emit", choices=wrappers.formats(), default=None,
                        help="what to produce: a firewall language "
                             f"({', '.join(sorted(wrappers.emitters()))}) or the target's "
                             "provisioning file (default: "
                             f"{wrappers.default_target().format})")
    parser.add_argument("--target", choices=sorted(wrappers.targets()), default=None,
                        help="the kind of host the provisioning file is for (default: "
                             f"{wrappers.default_target().name})")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE atomically instead of stdout")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 with a diff when FILE (-o) is stale")
    parser.add_argument("--force", action="store_true",
                        help="overwrite FILE even though fwc did not write it")
    parser.add_argument("--merge", metavar="FILE",
                        help="update only fwc's entries (rules files, their units) in the "
                             "existing provisioning file FILE, keeping everything else; "
                             "the result goes to -o (may be FILE itself) or stdout")


def run(args: argparse.Namespace) -> int:
    if args.check and not args.output:
        raise FwcError("--check compares with a file: give it with -o FILE")
    producer = choose_producer(args.emit, args.target)
    with collector_paused():
        result = load(args.policy)
        build = wrappers.Build(wrappers.source_label(args.policy), result.rulesets,
                               getattr(result, "directives", {}) or {})
        problems = findings(args.policy, result, producer, build)
        text = None if _has_errors(problems) else render_output(producer, build, problems)
    if text is not None and getattr(args, "merge", None):
        text = merge_into(args.merge, text, args.emit, args.target)
    print_diagnostics([d for d in problems if d.severity >= SHOWN], _sources(result))
    if text is None:
        return EXIT_ERRORS
    return deliver(text, args)


# --------------------------------------------------------------------------- stages


def load(path: str):
    """The policy front end's result; usage and I/O problems become FwcError (exit 2)."""
    from ..parse.policy import load_policy

    p = Path(path)
    if not p.exists():
        raise FwcError(f"{path}: no such file")
    if p.is_dir():
        raise FwcError(f"{path}: is a directory, not a policy file")
    try:
        return load_policy(path)
    except OSError as exc:
        raise FwcError(f"{exc.filename or path}: cannot read: {exc.strerror or exc}") from None


def findings(path: str, result, producer, build: wrappers.Build) -> list[Diagnostic]:
    """The policy's own problems; when it has no errors, the lint gate's findings on the
    families the output installs (which include the policy's own)."""
    problems = list(result.diagnostics)
    if _has_errors(problems):
        return problems
    families = producer.families(build)
    gated = lint_gate(path, result, families)
    if gated is None:
        return problems
    if partial_output(producer, families, build):
        gated = [d for d in gated if d.code not in CROSS_FAMILY_CODES]
    return gated


def render_output(producer, build: wrappers.Build, problems: list[Diagnostic]) -> str | None:
    """The output text; None (and the backend's diagnostics added to ``problems``) when
    the backend cannot express the rulesets."""
    try:
        return emit(producer, build)
    except InputErrors as exc:
        problems.extend(exc.diagnostics)
        return None


def lint_gate(path: str, result, families: tuple[int, ...]) -> list[Diagnostic] | None:
    """The lint pipeline's findings on the rulesets this compile installs (the policy's
    own diagnostics included, suppressions and the project's config applied): errors stop
    the compile, warnings are printed. None when the lint pipeline (fwc.lint) is not part
    of this install."""
    if importlib.util.find_spec("fwc.lint") is None:
        return None
    from ..config import ConfigResolver
    from ..lint import lint_document

    document = policy_document(path, result, families)
    # Only warnings and errors are shown: checks that can only report info are not run.
    return list(lint_document(document, ConfigResolver().for_path(path),
                              min_severity=SHOWN))


def policy_document(path: str, result, families: tuple[int, ...]) -> Document:
    sources = _sources(result)
    source = sources.get(path) or SourceFile.read(path)
    sources.setdefault(path, source)
    directives = getattr(result, "directives", {}) or {}
    return Document(path=path, kind="policy", source=source,
                    rulesets=tuple(result.rulesets[f] for f in sorted(families)),
                    diagnostics=tuple(result.diagnostics),
                    comments=tuple(getattr(result, "comments", ()) or ()),
                    sources=sources, extra={"policy": result, "directives": directives})


def choose_producer(emit: str | None, target_name: str | None):
    """What ``--emit`` asks for: an emitter, or the target whose file it names."""
    emitters = wrappers.emitters()
    if emit in emitters:
        return emitters[emit]
    return choose_target(emit, target_name)


def partial_output(producer, families: tuple[int, ...], build: wrappers.Build) -> bool:
    """An emitter asked for some of the policy's families (a target is a whole host)."""
    return isinstance(producer, wrappers.Emitter) and set(families) != set(build.rulesets)


def emit(producer, build: wrappers.Build) -> str:
    if isinstance(producer, wrappers.Emitter):
        return build.output(producer.name)
    return producer.emit(build)


def choose_target(emit: str | None, target_name: str | None) -> wrappers.Target:
    targets = wrappers.targets()
    if target_name is not None:
        target = targets[target_name]
        if emit is not None and target.format != emit:
            raise FwcError(f"--target {target_name} produces {target.format}, not {emit}")
        return target
    default = wrappers.default_target()
    if emit is None or default.format == emit:
        return default
    matching = sorted(name for name, t in targets.items() if t.format == emit)
    if len(matching) == 1:
        return targets[matching[0]]
    raise FwcError(f"--emit {emit} needs --target ({' or '.join(matching)})")


def deliver(text: str, args: argparse.Namespace) -> int:
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    existing = read_existing(args.output)
    if args.check:
        return report_staleness(args.output, existing, text, args.policy)
    if existing is not None and existing != text and not _merging_into(args):
        refuse_foreign(args.output, existing, args.force)
    if existing != text:
        try:
            # Through a symlink to the file it names: replacing the link itself would
            # leave the file that is really used stale.
            write_atomic(os.path.realpath(args.output), text)
        except OSError as exc:
            raise FwcError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    return EXIT_OK


def merge_into(path: str, text: str, emit: str | None, target_name: str | None) -> str:
    """``text`` (a target's file) merged into the provisioning file at ``path``."""
    from ..wrappers.merge import merge_file

    if emit in wrappers.emitters():
        raise FwcError(f"--merge updates a provisioning file; --emit {emit} is not one")
    return merge_file(path, text, target=choose_target(emit, target_name).name)


def _merging_into(args: argparse.Namespace) -> bool:
    """-o names the --merge file: the merge already kept everything fwc does not own."""
    merge = getattr(args, "merge", None)
    return bool(merge) and Path(merge).resolve() == Path(args.output).resolve()


# --------------------------------------------------------------------------- output file


def read_existing(path: str) -> str | None:
    p = Path(path)
    if p.is_dir():
        raise FwcError(f"{path}: is a directory")
    try:
        return p.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FwcError(f"{path}: cannot read: {exc.strerror or exc}") from None


def refuse_foreign(path: str, existing: str, force: bool) -> None:
    """Never overwrite a file fwc did not write, unless asked to."""
    if force or wrappers.is_generated(existing):
        return
    raise FwcError(f"{path} was not written by fwc (it has no '{wrappers.GENERATED_MARKER}' "
                   "header); refusing to overwrite it. Pass --force to replace it.")


def report_staleness(path: str, existing: str | None, text: str, policy: str) -> int:
    if existing == text:
        return EXIT_OK
    if existing is None:
        print(f"{path} does not exist; run: fwc compile {policy} -o {path}", file=sys.stderr)
        return EXIT_ERRORS
    diff = difflib.unified_diff(existing.splitlines(keepends=True),
                                text.splitlines(keepends=True),
                                fromfile=f"{path} (on disk)",
                                tofile=f"{path} (compiled from {policy})")
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
    print(f"{path} is stale; run: fwc compile {policy} -o {path}", file=sys.stderr)
    return EXIT_ERRORS


# --------------------------------------------------------------------------- helpers


def _has_errors(diagnostics) -> bool:
    return any(d.severity >= Severity.ERROR for d in diagnostics)


def _sources(result) -> dict[str, SourceFile]:
    return dict(getattr(result, "sources", {}) or {})
