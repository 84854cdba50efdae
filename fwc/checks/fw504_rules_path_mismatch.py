"""FW504: a rules file is written where the enabled restore unit does not look."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic, Related, Severity
from .base import Check, Context


class RulesPathMismatch(Check):
    """A rules file is written to a path other than the one the enabled unit reads.

    What it does
        For each rules file a provisioning file writes that no enabled unit reads,
        looks for an enabled restore unit of the same family whose own path nothing
        writes, and reports the pair: the file is almost certainly meant for that unit.
        The paths each unit reads come from the unit's ``ExecStart`` when the file
        defines it, else from the unit the distribution ships:
        ``/var/lib/iptables/rules-save`` and ``/var/lib/ip6tables/rules-save``
        (CoreOS, Flatcar), ``/etc/iptables/rules.v4`` and ``rules.v6`` (Debian,
        Ubuntu), ``/etc/sysconfig/iptables`` and ``ip6tables`` (RHEL).

    Why is this bad?
        The unit starts, finds no file at its path, and the machine boots without a
        firewall, while the rules sit unused one directory away. Paths are easy to mix
        up between distributions (``/etc/iptables/rules.v4`` is Debian's, CoreOS reads
        ``/var/lib/iptables/rules-save``).

    Example
        # kind: cloud-config
        #cloud-config
        coreos:
          units:
            - name: iptables-restore.service
              enable: true
        write_files:
          - path: /etc/iptables/rules.v4
            permissions: '0644'
            content: |
              *filter
              :INPUT ACCEPT [0:0]
              :FORWARD ACCEPT [0:0]
              :OUTPUT ACCEPT [0:0]
              -A INPUT -i lo -j ACCEPT
              COMMIT

    Use instead
        # kind: cloud-config
        #cloud-config
        coreos:
          units:
            - name: iptables-restore.service
              enable: true
        write_files:
          - path: /var/lib/iptables/rules-save
            permissions: '0644'
            content: |
              *filter
              :INPUT ACCEPT [0:0]
              :FORWARD ACCEPT [0:0]
              :OUTPUT ACCEPT [0:0]
              -A INPUT -i lo -j ACCEPT
              COMMIT

    Exceptions
        A unit you override with your own ``ExecStart`` that reads the file through
        something fwc does not recognise (a script): point ``ExecStart`` at
        ``iptables-restore`` directly, or suppress with a reason.
    """

    code = "FW504"
    name = "rules-path-mismatch"
    severity = Severity.ERROR
    applies_to = frozenset({"cloud-config", "butane"})

    def run(self, ctx: Context) -> Iterator[Diagnostic]:
        # Imported here: rules files never need yaml.
        from ..wrappers.provisioning import view_of

        view = view_of(ctx.document)
        if view is None:
            return
        for written, loader, expected in view.match_loaders().mismatched:
            span = written.path.span if written.path else written.span
            yield self.diag(span, f"rules written to {written.target}, but {loader.name} reads {expected}",
                            related=(Related(loader.span, f"{loader.name} is {loader.how} and reads {expected}"),),
                            help=f"write the file to {expected}")
