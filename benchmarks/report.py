"""Render benchmark results (``benchmarks/results/<stamp>.json``) as markdown.

Usage::

    python benchmarks/report.py                      # latest full (non --quick) run
    python benchmarks/report.py results/X.json       # a given results file
    python benchmarks/report.py -k spheres/ -k floor/isal   # only these cases
    python benchmarks/report.py --readme             # refresh the README's tables

The output is the markdown ``run.py`` prints: a header line (machine, load
average at start and end, versions, BLAS, commit), the per-case table, the
regionkit-vs-other side-by-side table and, for cases compared with an oracle,
the targets table (speed-up, memory ratio, ratio to the decode floor, output
differences). Ratios are recomputed on the selected cases, so a filter keeps the
floor or reference a ratio needs only if it matches too.

``--readme`` rewrites every block of ``benchmarks/README.md`` (or ``--readme-path``)
between ``<!-- report: ARGS -->`` and ``<!-- /report -->``, where ``ARGS`` are
this script's arguments (a results file relative to ``benchmarks/``, ``-k``
patterns); the markers stay, so the block can be refreshed again.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402

BENCHMARKS = Path(__file__).resolve().parent
README = BENCHMARKS / "README.md"
_BLOCK = re.compile(r"(<!-- report:(?P<args>[^>]*)-->\n)(?P<body>.*?)(<!-- /report -->)",
                    re.DOTALL)


def latest_results(results_dir: Path = run.RESULTS_DIR) -> Path:
    """The newest full-data results file (stamps sort in time order)."""
    candidates = sorted(p for p in Path(results_dir).glob("*.json")
                        if not p.stem.endswith("-quick"))
    if not candidates:
        raise FileNotFoundError(f"no results file in {results_dir}; run benchmarks/run.py")
    return candidates[-1]


def select(record: dict, patterns) -> dict:
    """A copy of ``record`` with only the cases whose name contains a pattern."""
    results = record["results"]
    if patterns:
        results = {n: s for n, s in results.items() if any(p in n for p in patterns)}
    results = {n: dict(s) for n, s in results.items()}
    run.add_ratios(results)
    return {**record, "results": results}


def render(path: Path | None = None, patterns=()) -> str:
    """Markdown of results file ``path`` (default: the latest), filtered."""
    path = Path(path) if path else latest_results()
    record = json.loads(path.read_text())
    resolved = path.resolve()
    source = (f"benchmarks/{resolved.relative_to(BENCHMARKS)}"
              if resolved.is_relative_to(BENCHMARKS) else str(path))
    return f"Source: `{source}`.\n\n" + run.markdown_report(select(record, patterns))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=None,
                        help="results JSON (default: the latest full run)")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only cases whose name contains this (repeatable)")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite the <!-- report: ... --> blocks of the README")
    parser.add_argument("--readme-path", type=Path, default=README)
    return parser


def refresh_readme(readme: Path = README) -> int:
    """Re-render every report block of ``readme``; returns how many."""
    text = readme.read_text()
    count = 0

    def replace(match):
        nonlocal count
        args = _parser().parse_args(shlex.split(match["args"]))
        path = args.results
        if path is not None and not path.is_absolute():
            path = BENCHMARKS / path
        count += 1
        return match.group(1) + render(path, args.patterns) + match.group(4)

    readme.write_text(_BLOCK.sub(replace, text))
    return count


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.readme:
        n_blocks = refresh_readme(args.readme_path)
        sys.stdout.write(f"refreshed {n_blocks} report block(s) in {args.readme_path}\n")
        return 0
    sys.stdout.write(render(args.results, args.patterns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
