"""Make docstrings numpydoc cannot parse fail the build.

numpydoc reports an unknown section or a wrong underline as a Python
``UserWarning``, which Sphinx does not count as a build warning. This extension
parses every docstring autodoc hands over (before numpydoc rewrites it) and turns
each such message into a Sphinx warning with the object's name, so
``sphinx-build -W`` fails on it and ``--keep-going`` lists all of them at once.

It also escapes a trailing underscore in the *type* of a parameter or
attribute (``region_coverage_ : ndarray of shape (n_elements_,)``): numpydoc
keeps types as plain text, where reStructuredText would read ``n_elements_`` as
a link to a target named "n_elements".
"""

from __future__ import annotations

import re
import warnings

from numpydoc.docscrape import NumpyDocString, ParseError
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _check(app, what, name, obj, options, lines):
    if what not in {"class", "function", "method", "exception", "module"}:
        return
    text = "\n".join(lines)
    if not text.strip():
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            NumpyDocString(text)
        except (ParseError, ValueError) as error:
            logger.warning(
                "numpydoc cannot parse the docstring of %s: %s", name, error,
                location=name, type="numpydoc", subtype="parse",
            )
            return
    for warning in caught:
        logger.warning(
            "numpydoc: %s (docstring of %s)", warning.message, name,
            location=name, type="numpydoc", subtype="parse",
        )


_DEFINITION = re.compile(r"^(\s*[*\w, ]+ : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[,)\]\s]|$)")


def _escape_types(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _DEFINITION.match(line)
        if match and "`" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(r"\\_", match.group(2))


def setup(app):
    app.connect("autodoc-process-docstring", _escape_types, priority=101)
    # numpydoc mangles docstrings at priority 500: check the raw text first.
    app.connect("autodoc-process-docstring", _check, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["setup"]
