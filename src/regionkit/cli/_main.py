"""Entry point: ``main(argv=None) -> int`` with its parser built in a function.

Commands: ``regionkit demo`` (synthetic run, no download) and ``regionkit
extract`` (a cohort of preprocessed runs into BIDS derivatives). Bad command
lines exit with status 2 and a one-line error on stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys

from .._version import __version__


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become one line and exit status 2."""

    def error(self, message):  # argparse's hook for bad command lines
        raise _UsageError(f"{self.prog}: error: {message}")


def _get_parser() -> argparse.ArgumentParser:
    from ._demo import add_demo_parser
    from ._extract import add_extract_parser

    parser = _Parser(
        prog="regionkit",
        description="Turn brain images into region signals.",
    )
    parser.add_argument("--version", action="version", version=f"regionkit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v) or details (-vv) to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (add_demo_parser(subparsers), add_extract_parser(subparsers)):
        # -v also after the command name; SUPPRESS keeps a -v given before it
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                             help="log progress (-v) or details (-vv) to stderr")
    return parser


def _configure_logging(verbosity: int) -> logging.Handler | None:
    if not verbosity:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("regionkit")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    return handler


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 1 when some runs failed, 2 for a bad command line.
    """
    from ._extract import UsageError

    parser = _get_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(str(error), file=sys.stderr)
        return 2
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    handler = _configure_logging(args.verbose)
    try:
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(args)
        from ._extract import run_extract

        return run_extract(args)
    except UsageError as error:
        print(f"regionkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    finally:
        if handler is not None:
            logging.getLogger("regionkit").removeHandler(handler)
