"""Entry point: ``main(argv=None) -> int`` with its parser built in a function."""

from __future__ import annotations

import argparse
import sys

from .._version import __version__


def _get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regionkit",
        description="Turn brain images into region signals.",
    )
    parser.add_argument("--version", action="version", version=f"regionkit {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = _get_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return 0
