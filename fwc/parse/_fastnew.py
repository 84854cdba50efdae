"""Faster constructors for the model's frozen dataclasses, for the reader's hot path.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; for
the hundreds of thousands of spans and conditions a large dump produces, that call is
a large share of the reading time. ``maker(cls)`` builds an equivalent function that
writes the slots directly: same fields, same order, same objects (equal, hashable,
frozen afterwards). Classes with a ``__post_init__`` are returned unchanged.
"""

from __future__ import annotations

import dataclasses


def maker(cls):
    """A function taking every field of ``cls`` positionally and returning an instance."""
    if hasattr(cls, "__post_init__") or not hasattr(cls, "__slots__"):
        return cls
    names = [f.name for f in dataclasses.fields(cls)]
    namespace = {"new": object.__new__, "cls": cls}
    body = ["    o = new(cls)"]
    for i, name in enumerate(names):
        namespace[f"set{i}"] = getattr(cls, name).__set__
        body.append(f"    set{i}(o, {name})")
    source = f"def make({', '.join(names)}):\n" + "\n".join(body) + "\n    return o\n"
    exec(source, namespace)  # noqa: S102 - generated from the class's own field names
    make = namespace["make"]
    make.__doc__ = f"Build a {cls.__name__} (all fields, positionally)."
    return make
