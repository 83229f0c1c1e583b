"""The report object: one self-contained HTML document with nilearn's report API."""

from __future__ import annotations

import html
import logging
import tempfile
import webbrowser
from importlib import resources
from pathlib import Path
from string import Template

from .._version import __version__

logger = logging.getLogger(__name__)

__all__ = ["HTMLReport", "read_asset"]

WIDTH_DEFAULT = 800
HEIGHT_DEFAULT = 800


def read_asset(name: str) -> str:
    """Return the text of a packaged template, stylesheet or script.

    Parameters
    ----------
    name : str
        File name inside ``regionkit/reporting/templates`` (e.g. ``"report.css"``).

    Returns
    -------
    text : str
        The file's content, decoded as UTF-8.
    """
    return resources.files(__package__).joinpath("templates", name).read_text("utf-8")


def _check_size(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name} must be a positive number of pixels, got {value!r}")
    return int(value)


class HTMLReport:
    """An HTML report, viewable in a notebook, a browser or saved to a file.

    The API follows ``nilearn.reporting.HTMLReport``: ``str(report)`` and
    ``_repr_html_()`` give the body (styles and script included, so it renders
    on its own inside a notebook), ``get_standalone()`` the full page,
    ``get_iframe()`` the page wrapped in an ``<iframe srcdoc=...>``.
    The page is self-contained: figures are ``data:`` URIs, styles and script are
    inline, and a Content-Security-Policy forbids any network fetch.

    Parameters
    ----------
    body : str
        The report's body (an HTML fragment, already escaped).
    title : str
        Page title (plain text; escaped here).
    width, height : int, default=800
        Size of the inline frame returned by :meth:`get_iframe`.
    """

    def __init__(
        self,
        body: str,
        title: str,
        *,
        width: int = WIDTH_DEFAULT,
        height: int = HEIGHT_DEFAULT,
    ) -> None:
        self.body = body
        self.title = title
        self.width = _check_size(width, "width")
        self.height = _check_size(height, "height")
        page = Template(read_asset("page.html"))
        self.html = page.substitute(
            title=html.escape(title, quote=True),
            version=html.escape(__version__),
            body=body,
        )

    def __str__(self) -> str:
        return self.body

    def __repr__(self) -> str:
        return f"<HTMLReport {self.title!r}: {len(self.html)} characters>"

    def _repr_html_(self) -> str:
        """Return the body, for Jupyter notebooks."""
        return self.body

    def get_standalone(self) -> str:
        """Return the report as a full, self-contained HTML page."""
        return self.html

    def resize(self, width: int, height: int) -> HTMLReport:
        """Set the size of the inline frame returned by :meth:`get_iframe`."""
        self.width = _check_size(width, "width")
        self.height = _check_size(height, "height")
        return self

    def get_iframe(self, width: int | None = None, height: int | None = None) -> str:
        """Return the page wrapped in an inline frame (``srcdoc``).

        Parameters
        ----------
        width, height : int or None, default=None
            Size of the frame in pixels; None uses the report's ``width``/``height``.

        Returns
        -------
        iframe : str
            An ``<iframe>`` element whose ``srcdoc`` holds the escaped page.
        """
        width = self.width if width is None else _check_size(width, "width")
        height = self.height if height is None else _check_size(height, "height")
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'width="{width}" height="{height}" frameBorder="0"></iframe>'
        )

    def save_as_html(self, file_name: str | Path) -> None:
        """Write the standalone page to ``file_name`` (UTF-8).

        Parameters
        ----------
        file_name : str or pathlib.Path
            Destination file; overwritten if it exists.
        """
        path = Path(file_name)
        path.write_text(self.html, encoding="utf-8")
        logger.info("Report written to %s", path)

    def open_in_browser(self, file_name: str | Path | None = None) -> Path:
        """Save the page and open it in the default web browser.

        Parameters
        ----------
        file_name : str, pathlib.Path or None, default=None
            Where to save the page; None writes a temporary file that is left in
            place so the browser can read it.

        Returns
        -------
        path : pathlib.Path
            The file that was opened.
        """
        if file_name is None:
            with tempfile.NamedTemporaryFile(
                "w", suffix=".html", prefix="regionkit_report_", delete=False
            ) as handle:
                path = Path(handle.name)
        else:
            path = Path(file_name)
        self.save_as_html(path)
        webbrowser.open(path.resolve().as_uri())
        return path
