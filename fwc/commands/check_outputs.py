"""``fwc check-outputs``: is every declared compiled output up to date?

Compiles each policy whose outputs are declared (``[[outputs]]`` in the config, or the
policy's header directives, see :mod:`fwc.outputs`) and compares the result with the
committed file. A stale file gets a unified diff on stdout and the command that
refreshes it on stderr, like ``ruff format --check``; exit 1 when anything is stale,
missing or does not compile. ``--write`` recompiles the stale files instead. Needs no
arguments, so a pre-commit hook can run it as is.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import sys
from pathlib import Path

from ..diagnostics import FwcError, InputErrors, Severity
from ..fsutil import write_atomic
from ..outputs import Output, _rel, declared_outputs

NAME = "check-outputs"
HELP = "check that every declared compiled output is up to date (exit 1 and a diff when stale)"

EXIT_OK, EXIT_STALE = 0, 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policies", nargs="*", metavar="POLICY",
                        help="only the outputs of these policies (default: every declared output)")
    parser.add_argument("--write", action="store_true",
                        help="recompile stale outputs instead of reporting them")


def run(args: argparse.Namespace) -> int:
    load = _cached_loader()
    root = Path.cwd()
    outputs = declared_outputs(root, load=load)
    if args.policies:
        wanted = {Path(p).resolve() for p in args.policies}
        outputs = [o for o in outputs if o.policy.resolve() in wanted]
    if not outputs:
        print("fwc: no declared outputs (add [[outputs]] to .fwc.toml, see fwc/outputs.py)",
              file=sys.stderr)
        return EXIT_OK
    failures = sum(not check_output(o, load, write=args.write) for o in outputs)
    verb = "rewritten" if args.write else "stale or failing"
    print(f"{len(outputs)} declared output(s), {failures} {verb}", file=sys.stderr)
    return EXIT_STALE if failures and not args.write else EXIT_OK


def _cached_loader():
    from .compile import load

    @functools.lru_cache(maxsize=None)
    def cached(path: str):
        return load(path)

    return lambda path: cached(str(path))


def compiled_text(output: Output, load) -> str | None:
    """What ``fwc compile`` would write for ``output``; None (diagnostics printed) when
    the policy has errors."""
    from .. import wrappers
    from ._output import print_diagnostics
    from .compile import lint_gate, produce

    policy = str(output.policy)
    result = load(policy)
    problems = list(result.diagnostics)
    if not any(d.severity >= Severity.ERROR for d in problems):
        gated = lint_gate(policy, result)
        problems = problems if gated is None else gated
    errors = [d for d in problems if d.severity >= Severity.ERROR]
    text = None
    if not errors:
        build = wrappers.Build(wrappers.source_label(policy), result.rulesets,
                               getattr(result, "directives", {}) or {})
        try:
            text = produce(build, output.emit, output.target)
        except InputErrors as exc:
            errors = exc.diagnostics
    if errors:
        print_diagnostics(errors, dict(getattr(result, "sources", {}) or {}))
    return None if errors else text


def check_output(output: Output, load, *, write: bool) -> bool:
    """True when ``output`` is up to date (or was rewritten under ``write``)."""
    if not output.policy.is_file():
        print(f"fwc: {output.policy}: no such policy (declared in {output.declared_in})", file=sys.stderr)
        return False
    text = compiled_text(output, load)
    if text is None:
        print(f"fwc: {_rel(output.policy)} does not compile; {_rel(output.path)} not checked", file=sys.stderr)
        return False
    existing = _read(output.path)
    if existing == text:
        return True
    if write:
        write_atomic(output.path, text)
        print(f"recompiled {_rel(output.path)}", file=sys.stderr)
        return False
    if existing is None:
        print(f"would create: {_rel(output.path)} (missing); run: {output.command()}", file=sys.stderr)
        return False
    diff = difflib.unified_diff(existing.splitlines(keepends=True), text.splitlines(keepends=True),
                                fromfile=f"{_rel(output.path)} (committed)",
                                tofile=f"{_rel(output.path)} (compiled from {_rel(output.policy)})")
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                          for line in diff)
    sys.stdout.flush()
    print(f"would recompile: {_rel(output.path)}; run: {output.command()}", file=sys.stderr)
    return False


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise FwcError(f"{path}: is a directory, not a compiled output") from None
    except OSError as exc:
        raise FwcError(f"{path}: cannot read: {exc.strerror or exc}") from None
