"""HTML reports for fitted regionkit estimators.

Imported only when a report is asked for. Each estimator's ``generate_report``
is a one-line hook::

    def generate_report(self, engine="matplotlib", title=None, **kwargs):
        from regionkit.reporting import make_report

        return make_report(self, title=title, engine=engine, **kwargs)

(nilearn 0.14.1's signature: ``engine`` first, then ``title``, then the
``displayed_*`` keyword arguments).

:func:`make_report` picks a builder by the estimator's class (its own name or a
base class's name: ``NiftiSpheresMasker``, ``NiftiLabelsMasker``,
``NiftiMapsMasker``, ``NiftiMasker``, ``MultiNiftiMasker``, ``Parcellations``,
``RegionExtractor``), which reads fitted attributes only. An estimator may also
record, during ``fit`` and only when ``reports=True``, a dict
``self._report_extras`` with any of these keys (never the input images
themselves):

``"input_files"``
    list of str: names of the files given to ``fit``.
``"warnings"``
    list of str: messages of the warnings raised during ``fit``.
``"background_img"``
    a small 3D image (e.g. the mean of the fitted run) to draw on instead of the
    MNI152 template.
``"grid"``
    ``(shape, affine)`` of the image seen at fit (spheres: voxel counts on it).

The report is one self-contained HTML page (figures as base64 PNG, CSS and
JavaScript inline from package data, a Content-Security-Policy that forbids
network access), with nilearn's report API (:class:`HTMLReport`).
"""

from __future__ import annotations

import logging
import numbers
import warnings
from datetime import datetime, timezone
from typing import Any

import numpy as np

from .._warnings import RegionkitWarning
from ._document import HTMLReport

logger = logging.getLogger(__name__)

__all__ = ["HTMLReport", "make_report", "supported_estimators"]

_INSTALL_HINT = 'pip install "regionkit[all]"'
_NOT_FITTED = (
    "This {name} has not been fitted yet: call fit() before generate_report(). "
    "Only its parameters are shown."
)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "generate_report() draws its figures with matplotlib, which is not "
            f"installed. Install it with: {_INSTALL_HINT}"
        ) from error


def supported_estimators() -> list[str]:
    """Names of the estimator classes :func:`make_report` can describe."""
    from ._builders import BUILDERS

    return sorted(BUILDERS)


def check_displayed(value: Any, name: str) -> Any:
    """Validate a ``displayed_*`` option: "all", an int >= 0, or a list of ints.

    Raises
    ------
    TypeError
        For any other type, naming the option and the value.
    ValueError
        For negative numbers.
    """
    if isinstance(value, str):
        if value != "all":
            raise ValueError(f"{name} must be 'all', an int >= 0 or a list of ints, got {value!r}")
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return int(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        array = np.asarray(value)
        if array.size and (array.ndim != 1 or not np.issubdtype(array.dtype, np.integer)):
            raise TypeError(
                f"{name} must be 'all', an int >= 0 or a list of ints, got {value!r}"
            )
        return [int(i) for i in array]
    raise TypeError(
        f"{name} must be 'all', an int >= 0 or a list of ints, got "
        f"{type(value).__name__} {value!r}"
    )


def _find_builder(estimator: Any):
    from ._builders import BUILDERS

    for klass in type(estimator).__mro__:
        if klass.__name__ in BUILDERS:
            return BUILDERS[klass.__name__]
    raise TypeError(
        f"No report builder for {type(estimator).__name__}; reports exist for "
        f"{', '.join(supported_estimators())}."
    )


def _is_fitted(estimator: Any, required: tuple[str, ...]) -> bool:
    for name in required:
        try:
            if getattr(estimator, name, None) is None:
                return False
        except Exception:  # nilearn-style properties raise when unfitted
            return False
    return True


def make_report(
    estimator: Any, title: str | None = None, engine: str = "matplotlib", **kwargs: Any
) -> HTMLReport:
    """Build the HTML report of an estimator.

    Parameters
    ----------
    estimator : estimator
        A regionkit masker, ``Parcellations`` or ``RegionExtractor`` (or a
        subclass). An unfitted estimator gives a report saying so.
    title : str or None, default=None
        Report title; None uses the class name.
    engine : {"matplotlib"}, default="matplotlib"
        Figure engine (only matplotlib; kept for nilearn compatibility).
    **kwargs
        ``displayed_spheres`` (NiftiSpheresMasker), ``displayed_maps``
        (NiftiMapsMasker, RegionExtractor) or ``displayed_regions``
        (NiftiLabelsMasker, Parcellations): "all", the number of regions to
        draw (the first ones; default 10) or a list of region positions.

    Returns
    -------
    report : HTMLReport
        A self-contained HTML page.

    Raises
    ------
    ImportError
        When matplotlib is missing (install ``regionkit[all]``).
    TypeError
        For an estimator without report builder, a non-str title, an unknown
        keyword argument or a badly typed ``displayed_*`` value.
    ValueError
        For an engine other than "matplotlib" or a negative ``displayed_*``.
    """
    _require_matplotlib()
    builder = _find_builder(estimator)
    name = type(estimator).__name__
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__} {title!r}")
    if engine != "matplotlib":
        raise ValueError(f"engine must be 'matplotlib', got {engine!r}")
    unknown = sorted(set(kwargs) - set(builder.options))
    if unknown:
        accepted = ", ".join(sorted(builder.options)) or "none"
        raise TypeError(
            f"generate_report() of {name} got unexpected keyword argument(s) "
            f"{', '.join(unknown)}; accepted: {accepted}"
        )
    options = {**builder.options, **kwargs}
    for option in builder.options:
        options[option] = check_displayed(options[option], option)
    options["explicit"] = frozenset(kwargs)

    from ._builders import background_canvas, input_names
    from ._html import ReportContent, render_body

    try:
        parameters = estimator.get_params(deep=False)
    except AttributeError:
        parameters = {}
    title = name if title is None else title
    content = ReportContent(
        title=title,
        estimator_name=name,
        fitted=_is_fitted(estimator, builder.required),
        parameters=parameters,
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        inputs=input_names(estimator, parameters),
    )
    if getattr(estimator, "reports", True) is False:
        content.notices.append(
            "reports=False: nothing was recorded during fit (input file names, fit "
            "warnings, mean image); the report shows the fitted attributes only."
        )
    if not content.fitted:
        content.notices.append(_NOT_FITTED.format(name=name))
    else:
        extras = getattr(estimator, "_report_extras", None) or {}
        content.warnings += [str(w) for w in extras.get("warnings", ())]
        builder.build(estimator, content, background_canvas(estimator), options)
        # problems with the request (e.g. displayed_* out of range) are also
        # raised, as nilearn does; fit warnings were raised by fit already
        for message in content.raised:
            warnings.warn(message, RegionkitWarning, stacklevel=3)
    logger.debug("report of %s: %d figures", name, len(content.figures))
    return HTMLReport(render_body(content), title)

