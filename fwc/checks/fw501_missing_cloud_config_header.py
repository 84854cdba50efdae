"""FW501: the first line of a cloud-config is not exactly ``#cloud-config``."""

from __future__ import annotations

import re
from typing import Iterator

from ..diagnostics import Diagnostic, Edit, Fix, Severity
from ..source import Span
from .base import Check, Context

_NEAR_MISS = re.compile(r"\ufeff?\s*#\s*cloud-?config\s*", re.IGNORECASE)


class MissingCloudConfigHeader(Check):
    """The first line of a cloud-config is not exactly ``#cloud-config``.

    What it does
        Checks that a file read as a cloud-config (it has ``write_files``, ``coreos``,
        ``runcmd`` ... keys) starts with the line ``#cloud-config``, with nothing before
        it, no space after the ``#``, no other capitalisation and no trailing space.

    Why is this bad?
        The first line is not a comment: it is how the machine decides what the user
        data is. CoreOS compares it with ``#cloud-config`` exactly; anything else and
        the file is not applied as a cloud-config (CoreOS runs user data that is not a
        cloud-config as a shell script), so no rules file is written, no unit is
        enabled, and the machine boots with no firewall at all.

    Example
        # kind: cloud-config
        # cloud-config
        write_files:
          - path: /etc/motd
            content: hello

    Use instead
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /etc/motd
            content: hello

    Exceptions
        None: cloud-init (Ubuntu) also accepts a header followed by trailing white
        space, but CoreOS does not, and a header that works everywhere costs nothing.
        The fix rewrites a misspelt header (safe); inserting a missing one is offered
        as an unsafe fix.
    """

    code = "FW501"
    name = "missing-cloud-config-header"
    severity = Severity.ERROR
    applies_to = frozenset({"cloud-config"})

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        # Imported here: rules files never need yaml.
        from ..wrappers.provisioning import CLOUD_CONFIG_HEADER, view_of

        view = view_of(ctx.document)
        if view is None or view.kind != "cloud-config":
            return
        text = ctx.document.source.text
        first = text.split("\n", 1)[0].removesuffix("\r")
        if first == CLOUD_CONFIG_HEADER:
            return
        path = ctx.document.path
        span = Span(path, 1, 1, 1, max(len(first), 1) + 1)
        if _NEAR_MISS.fullmatch(first):
            fix = Fix(f"replace {first!r} with {CLOUD_CONFIG_HEADER!r}",
                      (Edit(Span(path, 1, 1, 1, len(first) + 1), CLOUD_CONFIG_HEADER),))
            yield self.diag(span, f"the first line is {first.strip()!r}, not exactly "
                                  f"'{CLOUD_CONFIG_HEADER}': the file is not applied as a cloud-config",
                            help=_describe(first), fix=fix)
            return
        fix = Fix(f"insert '{CLOUD_CONFIG_HEADER}' as the first line",
                  (Edit(Span(path, 1, 1, 1, 1), CLOUD_CONFIG_HEADER + "\n"),), safe=False)
        yield self.diag(span, f"the file does not start with '{CLOUD_CONFIG_HEADER}': it is not applied "
                              "as a cloud-config (CoreOS runs it as a shell script)",
                        help=f"make '{CLOUD_CONFIG_HEADER}' the very first line", fix=fix)


def _describe(first: str) -> str:
    from ..wrappers.provisioning import CLOUD_CONFIG_HEADER

    if first.startswith("\ufeff"):
        return "remove the byte-order mark before the header"
    if first != first.rstrip():
        return "remove the white space after the header"
    if first != first.lstrip():
        return "remove the white space before the header"
    return f"write it exactly '{CLOUD_CONFIG_HEADER}': no space after '#', lower case, with the hyphen"
