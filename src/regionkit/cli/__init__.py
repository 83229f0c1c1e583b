"""regionkit's command line (``regionkit ...``)."""

from ._main import main

__all__ = ["main"]
