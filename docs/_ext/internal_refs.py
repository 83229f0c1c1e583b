"""Resolve short cross-references inside our own API, and nothing else.

Docstrings say :class:`MaskWarning` or :meth:`transform` where the full name is
``regionkit.MaskWarning`` or ``regionkit.regions.ReNA.transform``. Sphinx finds
such a name only in the current module; this handler, run when Sphinx gives
up, looks for it among everything documented on this site: first in the class
and module the reference was written in, then anywhere, and links it when
exactly one documented object has that name. Ambiguous or unknown names stay
unresolved, so nitpicky mode (``-n``) still reports them.
"""

from __future__ import annotations

from sphinx.util.nodes import make_refnode


def _candidates(domain, target: str, module: str | None, klass: str | None):
    objects = domain.objects
    scoped = []
    if module and klass:
        scoped.append(f"{module}.{klass}.{target}")
    if module:
        scoped.append(f"{module}.{target}")
    for name in scoped:
        if name in objects:
            return [name]
    suffix = "." + target.lstrip(".~")
    return [name for name, entry in objects.items()
            if name.endswith(suffix) and name.startswith("regionkit")
            and not entry.aliased]


def resolve(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target or target.startswith("regionkit."):
        return None
    domain = env.get_domain("py")
    found = _candidates(domain, target, node.get("py:module"), node.get("py:class"))
    if len(found) != 1:
        return None
    entry = domain.objects[found[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id,
                        contnode, found[0])


def setup(app):
    app.connect("missing-reference", resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
