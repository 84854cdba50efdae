"""Command-line entry point: argument parsing and dispatch only.

Each subcommand is a module in ``fwc/commands/`` defining ``NAME`` (or ``NAMES``),
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; it is found automatically.
Exit codes: 0 ok, 1 findings or errors in the input, 2 usage, configuration or I/O.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from . import __version__
from .diagnostics import FwcError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits 2 on usage errors, as we want
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"fwc: error: {message}\n")


def _commands():
    from . import commands

    found = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        names = getattr(module, "NAMES", None) or (getattr(module, "NAME", None),)
        for name in names:
            if name:
                found.append((name, module))
    return found


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; given ``argv``, only the command it names gets its options (the
    others' option set-up, such as compile's discovery of every emitter, is not needed
    to parse one command line)."""
    selected = _selected_command(argv)
    parser = _Parser(prog="fwc", description="Firewall rules compiler and linter.")
    parser.add_argument("--version", action="version", version=f"fwc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in _commands():
        p = sub.add_parser(name, help=getattr(module, "HELP", None),
                           description=getattr(module, "HELP", None))
        if selected is None or selected == name:
            module.add_arguments(p, name) if _takes_name(module) else module.add_arguments(p)
        p.set_defaults(_run=module.run, command=name)
    return parser


def _selected_command(argv: list[str] | None) -> str | None:
    """The command word of ``argv`` (its first word that is not an option), if any."""
    if argv is None:
        return None
    return next((word for word in argv if not word.startswith("-")), None)


def _takes_name(module) -> bool:
    import inspect

    return len(inspect.signature(module.add_arguments).parameters) > 1


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args._run(args))
    except FwcError as exc:
        print(f"fwc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
