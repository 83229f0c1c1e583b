"""Pure functions that turn report content into HTML strings.

Nothing here touches an estimator, an image or matplotlib: every function takes
plain Python values and returns a string. Every user-supplied value goes through
:func:`escape` (file names, region names, look-up-table labels, titles,
parameter values, warning messages).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._version import __version__
from ._document import read_asset

__all__ = [
    "Figure",
    "RegionTable",
    "ReportContent",
    "escape",
    "render_body",
]


def escape(value: Any) -> str:
    """Return ``str(value)`` with ``&``, ``<``, ``>``, ``"`` and ``'`` escaped."""
    return html.escape(str(value), quote=True)


@dataclass
class Figure:
    """One embedded picture.

    Parameters
    ----------
    data_uri : str
        ``data:image/png;base64,...`` or ``data:image/svg+xml;base64,...``.
    caption : str
        Plain text shown under the picture and in the carousel status.
    width, height : int
        Pixel size of the encoded picture.
    region_position : int or None
        Row of the region table this picture shows (None for overviews).
    """

    data_uri: str
    caption: str
    width: int
    height: int
    region_position: int | None = None


@dataclass
class RegionTable:
    """Per-region summary.

    ``rows`` hold one dict per region with the keys of ``columns``; ``status``
    holds, per row, ``""``, ``"empty"`` or ``"clipped"``.
    """

    columns: list[str]
    rows: list[dict[str, Any]]
    status: list[str]
    numeric_columns: frozenset[str] = frozenset()
    caption: str = ""


@dataclass
class ReportContent:
    """Everything a report shows, as plain values (what builders return).

    ``warnings`` are shown in the report; ``raised`` (a subset, about the
    report request itself, e.g. a trimmed ``displayed_*``) are also raised as
    :class:`regionkit.RegionkitWarning` by :func:`regionkit.reporting.make_report`.
    """

    title: str
    estimator_name: str
    fitted: bool
    description: str = ""
    summary: list[tuple[str, Any]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    figures_caption: str = ""
    regions: RegionTable | None = None
    warnings: list[str] = field(default_factory=list)
    raised: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    date: str = ""


# ----------------------------------------------------------------------------------
# fragments


def format_value(value: Any, max_chars: int = 160) -> str:
    """Short, human-readable text for a parameter value (not escaped).

    Images show their file name or shape, arrays their shape and first values,
    long representations are cut at ``max_chars`` characters.
    """
    get_filename = getattr(value, "get_filename", None)
    if callable(get_filename) and hasattr(value, "shape"):
        name = get_filename()
        shape = "x".join(str(s) for s in value.shape)
        kind = type(value).__name__
        return f"{kind} {shape}" + (f" ({name})" if name else " (in memory)")
    if callable(value) and hasattr(value, "__qualname__"):  # no memory addresses
        module = getattr(value, "__module__", None)
        return f"{module}.{value.__qualname__}" if module else value.__qualname__
    if isinstance(value, np.ndarray):
        text = np.array2string(value.ravel()[:6], precision=3, separator=", ")
        more = ", ..." if value.size > 6 else ""
        return f"ndarray {value.shape} {value.dtype}: {text[:-1]}{more}]"
    if isinstance(value, float):
        text = f"{value:g}"
    else:
        text = repr(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "\u2026"
    return text


def format_cell(value: Any) -> str:
    """Text for one table cell (not escaped)."""
    if value is None:
        return "\u2014"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "\u2014"
        return f"{value:.1f}"
    if isinstance(value, (tuple, list, np.ndarray)) and len(value) == 3:
        return "(" + ", ".join(f"{float(v):.1f}" for v in value) + ")"
    return str(value)


def parameters_html(parameters: Mapping[str, Any]) -> str:
    """Table of estimator parameters, sorted by name."""
    if not parameters:
        return "<p>No parameters.</p>"
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th>'
        f"<td><code>{escape(format_value(parameters[name]))}</code></td></tr>"
        for name in sorted(parameters)
    )
    return (
        '<table class="rk-table rk-parameters"><thead><tr><th scope="col">Parameter</th>'
        f'<th scope="col">Value</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def summary_html(summary: Sequence[tuple[str, Any]]) -> str:
    """Definition list of headline numbers."""
    if not summary:
        return ""
    items = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(format_cell(value))}</dd>"
        for label, value in summary
    )
    return f'<dl class="rk-summary-list">{items}</dl>'


_BADGES = {
    "empty": '<span class="rk-badge rk-badge-empty">empty</span>',
    "clipped": '<span class="rk-badge rk-badge-clipped">clipped</span>',
}


def region_table_html(table: RegionTable, slides: Mapping[int, int]) -> str:
    """Per-region table; empty and clipped rows carry a class and a badge.

    Parameters
    ----------
    table : RegionTable
        Columns, rows and per-row status.
    slides : mapping of int to int
        Row position -> carousel slide showing that region; such rows get a
        ``data-rk-slide`` attribute so clicking them shows the figure.
    """
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in table.columns)
    head += '<th scope="col">status</th>'
    body = []
    for position, (row, status) in enumerate(zip(table.rows, table.status, strict=True)):
        cells = "".join(
            f'<td class="rk-num">{escape(format_cell(row[c]))}</td>'
            if c in table.numeric_columns
            else f"<td>{escape(format_cell(row[c]))}</td>"
            for c in table.columns
        )
        cells += f"<td>{_BADGES.get(status, '')}</td>"
        attributes = f' class="rk-{status}"' if status else ""
        if position in slides:
            attributes += f' data-rk-slide="{slides[position]}"'
        body.append(f"<tr{attributes}>{cells}</tr>")
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    return (
        f'<div class="rk-table-wrap"><table class="rk-table rk-regions">{caption}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def carousel_html(figures: Sequence[Figure], carousel_id: str) -> str:
    """Figures as carousel slides with previous/next buttons.

    Without JavaScript all slides show one under the other and the buttons stay
    hidden; the inline script turns the block into a one-at-a-time carousel.
    """
    slides = []
    for index, figure in enumerate(figures):
        caption = escape(figure.caption)
        slides.append(
            f'<figure class="rk-slide" data-rk-index="{index}">'
            f'<img src="{escape(figure.data_uri)}" alt="{caption}" '
            f'width="{int(figure.width)}" height="{int(figure.height)}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return (
        f'<div class="rk-carousel" id="{escape(carousel_id)}" tabindex="0">'
        '<div class="rk-controls" hidden>'
        '<button type="button" class="rk-prev" aria-label="Previous figure">'
        "&#9664; Previous</button>"
        '<button type="button" class="rk-next" aria-label="Next figure">'
        "Next &#9654;</button>"
        '<span class="rk-status" aria-live="polite"></span></div>'
        f"{''.join(slides)}</div>"
    )


def _section(name: str, heading: str, inner: str) -> str:
    return f'<section class="rk-section rk-{name}"><h2>{escape(heading)}</h2>{inner}</section>'


def render_body(content: ReportContent, report_id: str | None = None) -> str:
    """Assemble the report body from its content.

    Parameters
    ----------
    content : ReportContent
        What to show (plain values, escaped here).
    report_id : str or None, default=None
        HTML id of the report root; None draws a random one (several reports can
        live in one notebook).

    Returns
    -------
    body : str
        An HTML fragment: ``<div class="rk-report">`` holding its ``<style>``,
        sections and ``<script>``.
    """
    report_id = report_id or f"rk-{uuid.uuid4().hex[:12]}"
    parts = [f'<div class="rk-report" id="{escape(report_id)}">']
    parts.append(f"<style>{read_asset('report.css')}</style>")
    meta = f"{content.estimator_name} \u00b7 regionkit {__version__}"
    if content.date:
        meta += f" \u00b7 {content.date}"
    parts.append(
        f'<header><h1>{escape(content.title)}</h1><p class="rk-meta">{escape(meta)}</p>'
        + (
            f'<p class="rk-description">{escape(content.description)}</p>'
            if content.description
            else ""
        )
        + "</header>"
    )
    for notice in content.notices:
        parts.append(f'<p class="rk-notice" role="note">{escape(notice)}</p>')
    if content.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in content.warnings)
        parts.append(_section("warnings", "Warnings", f"<ul>{items}</ul>"))
    if content.summary:
        parts.append(_section("summary", "Summary", summary_html(content.summary)))
    slides: dict[int, int] = {}
    if content.figures:
        slides = {
            f.region_position: i
            for i, f in enumerate(content.figures)
            if f.region_position is not None
        }
        intro = f"<p>{escape(content.figures_caption)}</p>" if content.figures_caption else ""
        parts.append(
            _section(
                "figures",
                "Figures",
                intro + carousel_html(content.figures, f"{report_id}-carousel"),
            )
        )
    if content.regions is not None:
        parts.append(
            _section("regions", "Regions", region_table_html(content.regions, slides))
        )
    if content.inputs:
        items = "".join(f"<li><code>{escape(name)}</code></li>" for name in content.inputs)
        parts.append(_section("inputs", "Inputs", f"<ul>{items}</ul>"))
    parts.append(_section("parameters", "Parameters", parameters_html(content.parameters)))
    parts.append(
        f"<footer>Generated by regionkit {escape(__version__)}; this page is "
        "self-contained and loads nothing from the network.</footer>"
    )
    parts.append(f"<script>{read_asset('report.js')}</script>")
    parts.append("</div>")
    return "".join(parts)
