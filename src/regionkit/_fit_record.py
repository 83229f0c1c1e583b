"""Record what a report needs to know about a ``fit``: input file names and warnings.

Estimators decorate ``fit`` with :func:`records_fit`. When the estimator's
``reports`` parameter is true, the decorator stores ``self._report_extras`` with
the names of the files given to ``fit`` and the messages of the warnings raised
during it. Only strings are kept, never the images themselves, so a fitted
estimator does not keep its inputs alive. Warnings still reach the caller: they
are re-emitted, with their original category and location, once ``fit`` returns.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any


def _file_names(imgs: Any) -> list[str]:
    """Names of the files behind ``imgs`` (a path, an image, or a list of them)."""
    if imgs is None:
        return []
    if isinstance(imgs, (list, tuple)):
        return [name for item in imgs for name in _file_names(item)]
    if isinstance(imgs, (str, os.PathLike)):
        return [os.fspath(imgs)]
    get_filename = getattr(imgs, "get_filename", None)
    if callable(get_filename):
        name = get_filename()
        return [name] if name else []
    return []


def _reemit(caught: list) -> None:
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def records_fit(fit: Callable) -> Callable:
    """Decorate ``fit(self, imgs=None, ...)`` to fill ``self._report_extras``."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        if not getattr(self, "reports", False):
            self._report_extras = None
            return fit(self, *args, **kwargs)
        imgs = args[0] if args else kwargs.get("imgs", kwargs.get("X"))
        caught: list = []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = fit(self, *args, **kwargs)
        except Exception:
            # the fit error is what the caller must see; its warnings still reach
            # the log-capturing machinery unless a filter turns them into errors
            with warnings.catch_warnings():
                warnings.simplefilter("default")
                _reemit(caught)
            raise
        # outside the recording context: the caller's filters apply again
        _reemit(caught)
        self._report_extras = {
            "input_files": _file_names(imgs),
            "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        }
        return result

    return wrapper
