"""What ``fwc compile`` can produce: emitters and targets, found by registration.

An **emitter** turns a compiled policy (a :class:`Build`) into one text in a firewall
language: ``iptables`` and ``ip6tables`` (iptables-restore text per family), later
``nft``. A **target** wraps emitters' outputs into a provisioning file for one kind of
host: ``coreos`` (the default: a ``#cloud-config`` for CoreOS/Flatcar), later ``ubuntu``,
``flatcar``, ``fcos``.

To add one, write a module in this package with a subclass decorated by
:func:`register_emitter` or :func:`register_target`; :func:`discover` imports every module
here, so no list needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, TypeVar

from ..backends.base import GENERATED_MARKER
from ..model import Ruleset


@dataclass
class Build:
    """A compiled policy on its way out: the rulesets per family, the name of the policy
    they came from, and every output rendered so far (each is rendered once)."""

    source_name: str
    rulesets: Mapping[int, Ruleset]
    directives: Mapping[str, Any] = field(default_factory=dict)
    _outputs: dict[str, str] = field(default_factory=dict, repr=False)

    def ruleset(self, family: int) -> Ruleset:
        return self.rulesets[family]

    def has_rules(self, family: int) -> bool:
        ruleset = self.rulesets.get(family)
        return ruleset is not None and next(ruleset.rules(), None) is not None

    def output(self, emitter: str) -> str:
        """The text of emitter ``emitter`` for this build (rendered on first use)."""
        if emitter not in self._outputs:
            self._outputs[emitter] = emitters()[emitter].emit(self)
        return self._outputs[emitter]


class Emitter:
    """Renders a build into one firewall-language text."""

    name: ClassVar[str]
    help: ClassVar[str] = ""
    # The file name the compile goldens keep this output under.
    golden_name: ClassVar[str] = ""

    def families(self, build: Build) -> tuple[int, ...]:
        """The families whose rules end up in this output (the lint gate checks these)."""
        return tuple(sorted(build.rulesets))

    def emit(self, build: Build) -> str:
        raise TypeError(f"{type(self).__name__} does not emit")


class Target:
    """Wraps emitters' outputs into the provisioning file one kind of host reads."""

    name: ClassVar[str]
    # The name ``--emit`` selects this target's file by (cloud-config, butane...).
    format: ClassVar[str]
    help: ClassVar[str] = ""
    default: ClassVar[bool] = False

    def families(self, build: Build) -> tuple[int, ...]:
        """The families whose rules this file installs (the lint gate checks these)."""
        return tuple(sorted(build.rulesets))

    def emit(self, build: Build) -> str:
        raise TypeError(f"{type(self).__name__} does not emit")


_EMITTERS: dict[str, Emitter] = {}
_TARGETS: dict[str, Target] = {}
_discovered = False

E = TypeVar("E", bound=type)


def _register(registry: dict, kind: str) -> Callable[[E], E]:
    def decorate(cls: E) -> E:
        name = cls.name
        existing = registry.get(name)
        if existing is not None and type(existing) is not cls:
            raise ValueError(f"two {kind}s are named {name!r}: "
                             f"{type(existing).__qualname__} and {cls.__qualname__}")
        registry[name] = cls()
        return cls

    return decorate


register_emitter = _register(_EMITTERS, "emitter")
register_target = _register(_TARGETS, "target")


def discover() -> None:
    """Import every module of this package once, so their registrations run."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def emitters() -> dict[str, Emitter]:
    discover()
    return dict(_EMITTERS)


def targets() -> dict[str, Target]:
    discover()
    return dict(_TARGETS)


def default_target() -> Target:
    defaults = [t for t in targets().values() if t.default]
    if len(defaults) != 1:
        raise RuntimeError(f"expected one default target, found {len(defaults)}")
    return defaults[0]


def formats() -> list[str]:
    """Every value ``--emit`` accepts: the emitters, then the targets' file formats."""
    return sorted(emitters()) + sorted({t.format for t in targets().values()})


def source_label(path: str) -> str:
    """The policy's file name as output headers name it: no directories (outputs must not
    depend on where fwc ran) and nothing that could break a line."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1] or path
    return "".join(ch if ch.isprintable() else "?" for ch in name)


def is_generated(text: str) -> bool:
    """True when ``text`` carries fwc's header in its first lines, i.e. fwc wrote it."""
    return any(line.startswith(GENERATED_MARKER) for line in text.splitlines()[:5])
