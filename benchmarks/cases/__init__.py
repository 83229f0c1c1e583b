"""Benchmark case registry.

A case is a plain function ``fn(data) -> dict`` registered with :func:`case`;
``data`` maps names to the generated files (``"bold"``, ``"mask"``,
``"confounds"``, see ``benchmarks/generate_data.py``). The runner imports every
module of this package (so adding a file is enough), runs each case in a fresh
subprocess and times only the call, after the modules listed in ``imports``
are loaded. The returned dict (small, JSON-serialisable) is stored with the
timings; use it to prove the work was done (counts, checksums).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Case", "all_cases", "case", "get_case"]

_REGISTRY: dict[str, Case] = {}


@dataclass(frozen=True)
class Case:
    """One timed piece of work.

    Attributes
    ----------
    name : str
        Unique id, ``"<group>/<library>-<variant>"`` by convention.
    task : str
        What is computed; cases sharing a task appear side by side.
    library : str
        ``"regionkit"``, ``"nilearn"``, ``"nibabel"`` or ``"floor"`` (a lower bound).
    fn : callable
        ``fn(data) -> dict``, run once per repeat in a fresh process.
    reference : str or None
        Name of the case this one's time is divided by in the "ratio" column.
    imports : tuple of str
        Modules imported before the clock starts (keeps import time out).
    requires : tuple of str
        Modules that must be importable, else the case is reported as skipped.
    description : str
    """

    name: str
    task: str
    library: str
    fn: Callable
    reference: str | None = None
    imports: tuple = ()
    requires: tuple = ()
    description: str = ""
    params: dict = field(default_factory=dict)

    def available(self) -> bool:
        """Whether every module in ``requires`` can be imported."""
        return all(importlib.util.find_spec(name) is not None for name in self.requires)


def case(name, *, task, library, reference=None, imports=(), requires=(),
         description="", **params):
    """Decorator registering ``fn`` as a benchmark case (see :class:`Case`)."""

    def register(fn):
        if name in _REGISTRY:
            raise ValueError(f"benchmark case {name!r} is registered twice")
        _REGISTRY[name] = Case(name, task, library, fn, reference, tuple(imports),
                               tuple(requires), description or (fn.__doc__ or "").strip(),
                               dict(params))
        return fn

    return register


def _load_modules():
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def all_cases() -> dict[str, Case]:
    """Every registered case, by name, in registration order."""
    _load_modules()
    return dict(_REGISTRY)


def get_case(name: str) -> Case:
    """The case called ``name``; ``KeyError`` lists the known names."""
    cases = all_cases()
    if name not in cases:
        raise KeyError(f"unknown benchmark case {name!r}; known: {sorted(cases)}")
    return cases[name]
