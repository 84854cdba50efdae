"""FW502: ``permissions: 0644`` unquoted in a cloud-config's ``write_files``."""

from __future__ import annotations

import re
from typing import Iterator

from ..diagnostics import Diagnostic, Edit, Fix, Severity
from .base import Check, Context

_OCTAL = re.compile(r"[0-7]{3,4}")


class UnquotedPermissions(Check):
    """A ``write_files`` entry gives ``permissions`` as an unquoted number.

    What it does
        Finds ``permissions: 0644`` (any unquoted number) in a cloud-config's
        ``write_files`` entries.

    Why is this bad?
        YAML 1.1 reads an unquoted ``0644`` as an octal *integer*: the value is 420,
        not the text "0644". cloud-config defines ``permissions`` as a string of octal
        digits, and a loader that takes the value as text (CoreOS's cloudinit) then
        sees "420" and applies mode 0420 (owner read, group write), or rejects the
        file. An unquoted ``644`` is worse: it is the decimal 644, mode 01204. The rules
        file then has the wrong mode, or is not written at all, and the machine boots
        without its firewall.

    Example
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /etc/motd
            permissions: 0644
            content: hello

    Use instead
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /etc/motd
            permissions: '0644'
            content: hello

    Exceptions
        None. The fix quotes the digits as written; it is safe when they have the
        leading zero (``0644`` becomes ``'0644'``, the mode that was meant). For digits
        without it (``644``) the fix is offered as unsafe, since the integer YAML reads
        today differs from the mode the quoted text gives.
    """

    code = "FW502"
    name = "unquoted-permissions"
    severity = Severity.ERROR
    applies_to = frozenset({"cloud-config"})

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        # Imported here: rules files never need yaml.
        from ..wrappers.provisioning import view_of

        view = view_of(ctx.document)
        if view is None or view.kind != "cloud-config":
            return
        for written in view.files:
            perm = written.permissions
            if perm is None or not perm.is_plain or not isinstance(perm.value, int) or isinstance(perm.value, bool):
                continue
            yield self.diag(perm.span, _message(perm.text, perm.value),
                            help=f"quote it: permissions: '{_mode(perm.text, perm.value)}'", fix=_fix(perm))


def _message(text: str, value: int) -> str:
    return f"permissions {text} is not quoted: YAML reads it as the integer {value}, not the text '{text}'"


def _mode(text: str, value: int) -> str:
    """The mode the author most likely meant, as cloud-config wants it written."""
    if _OCTAL.fullmatch(text):
        return text if text.startswith("0") else "0" + text
    return f"{value:04o}"


def _fix(perm) -> Fix | None:
    text = perm.text
    if not _OCTAL.fullmatch(text):
        return None
    safe = text.startswith("0")
    return Fix(f"quote {text} as '{text}'", (Edit(perm.span, f"'{text}'"),), safe=safe)
