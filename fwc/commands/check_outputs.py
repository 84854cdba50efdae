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
import contextlib
import functools
import io
import sys
from pathlib import Path

from ..diagnostics import FwcError
from ..outputs import Output, _rel, declared_outputs

NAME = "check-outputs"
HELP = "check that every declared compiled output is up to date (exit 1 and a diff when stale)"

EXIT_OK, EXIT_STALE = 0, 1
FRESH, STALE, WRITTEN, FAILED = "fresh", "stale", "written", "failed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("policies", nargs="*", metavar="POLICY",
                        help="only the outputs of these policies (default: every declared output)")
    parser.add_argument("--write", action="store_true",
                        help="recompile stale outputs instead of reporting them")


def run(args: argparse.Namespace) -> int:
    outputs = declared_outputs(Path.cwd(), load=_cached_loader())
    if args.policies:
        wanted = {Path(p).resolve() for p in args.policies}
        outputs = [o for o in outputs if o.policy.resolve() in wanted]
    if not outputs:
        print("fwc: no declared outputs (add [[outputs]] to .fwc.toml, see fwc/outputs.py)",
              file=sys.stderr)
        return EXIT_OK
    states = [check_output(o, write=args.write) for o in outputs]
    failing = states.count(FAILED) + states.count(STALE)
    summary = f"{len(outputs)} declared output(s), {failing} stale or failing"
    if args.write:
        summary = f"{len(outputs)} declared output(s), {states.count(WRITTEN)} recompiled, {failing} failing"
    print(summary, file=sys.stderr)
    return EXIT_STALE if failing else EXIT_OK


def _cached_loader():
    """The policy front end, each policy read once (its directives may declare outputs)."""
    from ..parse.policy import load_policy

    @functools.lru_cache(maxsize=None)
    def cached(path: str):
        return load_policy(path)

    return lambda path: cached(str(path))


def compile_argv(output: Output, *, write: bool) -> list[str]:
    """The ``fwc compile`` command line that writes (or, with --check, verifies) it."""
    argv = ["compile", _rel(output.policy)]
    if output.emit:
        argv += ["--emit", output.emit]
    if output.target:
        argv += ["--target", output.target]
    argv += ["-o", _rel(output.path)]
    return argv if write else argv + ["--check"]


def check_output(output: Output, *, write: bool) -> str:
    """FRESH, STALE (a diff was printed), WRITTEN (under ``write``) or FAILED.

    Runs ``fwc compile ... -o FILE --check`` in process, so the comparison and the diff
    are exactly the compile command's; its advice line is replaced by one that repeats
    the declared ``--emit``/``--target``."""
    from ..cli import build_parser

    if not output.policy.is_file():
        print(f"fwc: {_rel(output.policy)}: no such policy (declared in {output.declared_in})", file=sys.stderr)
        return FAILED
    existing = _read(output.path)
    args = build_parser().parse_args(compile_argv(output, write=write))
    messages = io.StringIO()
    try:
        with contextlib.redirect_stderr(messages):
            status = args._run(args)
    except FwcError as exc:
        messages.write(f"fwc: error: {exc}\n")
        status = None
    sys.stdout.flush()
    if status != 0:
        if status == 1 and not write and _read(output.path) == existing and _compiles(messages.getvalue()):
            verb = "would create" if existing is None else "would recompile"
            print(f"{verb}: {_rel(output.path)}; run: fwc {' '.join(compile_argv(output, write=True))}",
                  file=sys.stderr)
            return STALE
        # Only a failing compile's messages are shown: warnings are fwc lint's business.
        sys.stderr.write(messages.getvalue())
        print(f"fwc: {_rel(output.policy)} does not compile; {_rel(output.path)} not checked", file=sys.stderr)
        return FAILED
    if write and _read(output.path) != existing:
        print(f"recompiled {_rel(output.path)}", file=sys.stderr)
        return WRITTEN
    return FRESH


def _compiles(messages: str) -> bool:
    """The compile reached the comparison (it printed its stale/missing advice)."""
    return "; run: fwc compile" in messages


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise FwcError(f"{path}: is a directory, not a compiled output") from None
    except OSError as exc:
        raise FwcError(f"{path}: cannot read: {exc.strerror or exc}") from None
