"""FW505: documents how rules files inside provisioning files are linted (no finding)."""

from __future__ import annotations

from ..diagnostics import Severity
from .base import Check


class EmbeddedRules(Check):
    """Rules files inside a provisioning file are linted in place (not a finding).

    What it does
        Nothing by itself: this code documents that every iptables rules file a
        cloud-config (``write_files``) or Butane file (``storage.files``) writes is
        read with the same reader and checked by the same checks as a rules file on
        disk. A file is taken as a rules file by its path (``rules-save``,
        ``rules.v4``, ``rules.v6``, ``/etc/sysconfig/iptables``, ``iptables*.save``) or
        by its content (``*filter``, ``:CHAIN POLICY``, ``-A`` lines). Every finding
        points at the line and column of the YAML file: for a literal block
        (``content: |``) the line of the rule itself, for any other style (quoted,
        folded, base64 or gzip encoded, a ``data:`` URL) the ``content`` key. A Butane
        ``contents.local`` file is read where it is, and its findings point into it.

    Why is this bad?
        It is not: this is how the other findings reach you. A rules file embedded in
        YAML is easy to break (the seed's cloud-config lacks ``*filter`` and
        ``COMMIT``, so ``iptables-restore`` refuses it) and hard to test before a
        machine boots with it; fwc checks it where it is written.

    Example
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /var/lib/iptables/rules-save
            permissions: '0644'
            content: "-A INPUT -j ACCEPT"

    Use instead
        # kind: cloud-config
        #cloud-config
        write_files:
          - path: /var/lib/iptables/rules-save
            permissions: '0644'
            content: |
              -A INPUT -j ACCEPT

    Exceptions
        ``nftables.conf`` and other nftables files are not iptables rules files and
        are not read as such.
    """

    code = "FW505"
    name = "embedded-rules"
    severity = Severity.INFO
    applies_to = frozenset({"cloud-config", "butane"})
    # Documentation only: nothing emits FW505 (run yields nothing).
    documentation_only = True
