"""Render benchmark results (``benchmarks/results/<stamp>.json``) as markdown.

Usage::

    python benchmarks/report.py                      # latest full (non --quick) run
    python benchmarks/report.py results/X.json       # a given results file
    python benchmarks/report.py -k spheres/ -k floor/isal   # only these cases
    python benchmarks/report.py --summary            # newest result of every case
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


def summary(results_dir: Path = run.RESULTS_DIR, patterns=(), n_volumes=300) -> str:
    """One side-by-side table over every full-data results file.

    For each case the newest run that has it is kept (stamps sort in time
    order); regionkit cases are paired with the other libraries' cases of the
    same task. Runs differ in load, so the CPU ratio is the one to compare.
    """
    latest = {}
    failed = {}
    for path in sorted(Path(results_dir).glob("*.json")):
        record = json.loads(path.read_text())
        if record.get("data", {}).get("bold_shape", [0])[-1] != n_volumes:
            continue
        for name, result in record["results"].items():
            if not patterns or any(p in name for p in patterns):
                latest[name] = (result, path.stem, record["repeat"])
                failed.pop(name, None)
        for name, failure in (record.get("failed") or {}).items():
            if name not in latest:
                failed[name] = (failure, path.stem)
    lines = [
        "| task | regionkit case | wall s | CPU s | MiB | other case | wall s | CPU s "
        "| MiB | speed-up (wall / CPU) | memory ratio | runs (stamp x repeats) |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    by_task = {}
    for name, (result, stem, repeat) in latest.items():
        by_task.setdefault(result["task"], []).append((name, result, stem, repeat))
    for task, group in by_task.items():
        ours = [g for g in group if g[1]["library"] == "regionkit"]
        others = [g for g in group
                  if g[1]["library"] not in ("regionkit", "floor", "float64")]
        for o_name, o, o_stem, o_rep in ours:
            for t_name, t, t_stem, t_rep in others or [(None, None, None, None)]:
                if t is None:
                    lines.append(
                        f"| {task} | {o_name} | {o['wall_s_median']:.2f} | "
                        f"{o['cpu_s_median']:.2f} | {o['peak_rss_mib_max']:.0f} | "
                        f"- | - | - | - | - | - | {o_stem} x{o_rep} |")
                    continue
                lines.append(
                    f"| {task} | {o_name} | {o['wall_s_median']:.2f} | "
                    f"{o['cpu_s_median']:.2f} | {o['peak_rss_mib_max']:.0f} | {t_name} | "
                    f"{t['wall_s_median']:.2f} | {t['cpu_s_median']:.2f} | "
                    f"{t['peak_rss_mib_max']:.0f} | "
                    f"{t['wall_s_median'] / o['wall_s_median']:.1f} / "
                    f"{t['cpu_s_median'] / o['cpu_s_median']:.1f} | "
                    f"{o['peak_rss_mib_max'] / t['peak_rss_mib_max']:.2f} | "
                    f"{o_stem} x{o_rep}, {t_stem} x{t_rep} |")
    for name, (failure, stem) in failed.items():
        first = failure["error"].splitlines()[0] if failure["error"] else ""
        lines += ["", f"Failed (no successful run): `{name}` in {stem}: {first}"]
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", type=Path, default=None,
                        help="results JSON (default: the latest full run)")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only cases whose name contains this (repeatable)")
    parser.add_argument("--summary", action="store_true",
                        help="one side-by-side table over all full-data results files")
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
        body = summary(patterns=args.patterns) if args.summary else render(path, args.patterns)
        return match.group(1) + body + match.group(4)

    readme.write_text(_BLOCK.sub(replace, text))
    return count


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.readme:
        n_blocks = refresh_readme(args.readme_path)
        sys.stdout.write(f"refreshed {n_blocks} report block(s) in {args.readme_path}\n")
        return 0
    if args.summary:
        sys.stdout.write(summary(patterns=args.patterns))
        return 0
    sys.stdout.write(render(args.results, args.patterns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
