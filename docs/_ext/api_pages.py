"""Write one API reference page per public module from its ``__all__``.

The pages (``docs/api/regionkit.<module>.rst``) are regenerated at every build,
before autosummary runs, so a name exported by a module appears in the
reference as soon as it lands, with no list to keep up to date by hand.
Classes are documented with their public methods, functions on their own page.
Module-level constants are listed with their value's type.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from sphinx.pycode import ModuleAnalyzer

#: Public modules, in the order of the data flow.
MODULES = (
    "regionkit.maskers",
    "regionkit.signal",
    "regionkit.confounds",
    "regionkit.regions",
    "regionkit.reporting",
    "regionkit.image",
    "regionkit.image.stream",
    "regionkit.masking",
    "regionkit.datasets",
    "regionkit.cli",
    "regionkit",
)

_TOP_LEVEL_NOTE = (
    "The top-level package re-exports the estimators (for example "
    "``regionkit.NiftiSpheresMasker`` is :class:`regionkit.maskers.NiftiSpheresMasker`) "
    "and defines the warning classes."
)


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return list(dict.fromkeys(names))


def _home(module_name: str, name: str, obj) -> str | None:
    """Module where ``obj`` is documented, or None when it is documented elsewhere."""
    if module_name == "regionkit" and inspect.ismodule(obj):
        return None
    if module_name == "regionkit" and not (
        inspect.isclass(obj) and issubclass(obj, Warning)
    ):
        return None  # estimators: documented under their own module
    return module_name


def _group(module_name: str, module, seen: set) -> dict[str, list[str]]:
    groups = {"Classes": [], "Functions": [], "Exceptions and warnings": [], "Constants": []}
    for name in _public_names(module):
        try:
            obj = getattr(module, name)
        except AttributeError:
            continue
        if name == "__version__" or _home(module_name, name, obj) is None:
            continue
        if id(obj) in seen:  # re-exported: documented on the first page listing it
            continue
        seen.add(id(obj))
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            groups["Exceptions and warnings"].append(name)
        elif inspect.isclass(obj):
            groups["Classes"].append(name)
        elif callable(obj):
            groups["Functions"].append(name)
        elif not inspect.ismodule(obj) and name.isupper():
            groups["Constants"].append(name)
    return groups


def _attribute_doc(module, name: str) -> str:
    """The ``#:`` comment above ``name`` in the package's own submodules."""
    modules = [module.__name__]
    if hasattr(module, "__path__"):
        modules += [f"{module.__name__}.{info.name}"
                    for info in pkgutil.iter_modules(module.__path__)]
    for module_name in modules:
        try:
            docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except Exception:  # no source: nothing to show
            continue
        if ("", name) in docs:
            return " ".join(line.strip() for line in docs[("", name)] if line.strip())
    return ""


def _render_constants(module, names: list[str]) -> list[str]:
    lines = []
    for name in sorted(names):
        value = getattr(module, name)
        lines += [f".. py:data:: {name}", f"   :type: {type(value).__name__}", ""]
        doc = _attribute_doc(module, name)
        if doc:
            lines += [f"   {doc}", ""]
        if isinstance(value, (tuple, list, frozenset, set)) and len(value) <= 30:
            shown = ", ".join(f"``{item!r}``" for item in value)
            lines += [f"   Value: {shown}.", ""]
        elif isinstance(value, dict):
            shown = ", ".join(f"``{key!r}``" for key in value)
            lines += [f"   Keys: {shown}.", ""]
    return lines


def render(module_name: str, seen: set) -> str:
    module = importlib.import_module(module_name)
    title = f"``{module_name}``"
    lines = [f".. _api-{module_name}:", "", title, "=" * len(title), ""]
    lines += [f".. automodule:: {module_name}", "   :no-members:", ""]
    if module_name == "regionkit":
        lines += [_TOP_LEVEL_NOTE, ""]
    for heading, names in _group(module_name, module, seen).items():
        if not names:
            continue
        lines += [heading, "-" * len(heading), "", f".. currentmodule:: {module_name}", ""]
        if heading == "Constants":
            lines += _render_constants(module, names)
            continue
        lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:"]
        lines.append("")  # templates: docs/_templates/autosummary/{class,function}.rst
        lines += [f"   {name}" for name in sorted(names, key=str.lower)]
        lines.append("")
    return "\n".join(lines)


def write_pages(app, config=None) -> None:
    out = Path(app.srcdir) / "api"
    out.mkdir(exist_ok=True)
    seen: set = set()
    # the top-level package first: it owns the warning classes it defines
    for module_name in ("regionkit", *[m for m in MODULES if m != "regionkit"]):
        path = out / f"{module_name}.rst"
        text = render(module_name, seen)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def setup(app):
    # before the source files are listed (autosummary generates its stubs
    # from the files found, at builder-inited)
    app.connect("config-inited", write_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
