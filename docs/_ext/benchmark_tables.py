"""Publish the benchmark results (``benchmarks/results/*.json``) as tables.

``benchmarks/run.py`` writes one JSON record per run (environment, data, and a
summary per case). This extension reads those records at build time, so the
numbers on the site are the files' numbers, never retyped::

    .. benchmark-table::
       :match: maskers/, parcellations/
       :kind: pairs

Options
-------
``:match:``
    Comma-separated substrings; a case is shown when its name contains one of
    them (default: every case).
``:kind:``
    ``pairs`` (default): regionkit next to nilearn (or junifer) for each task,
    with the time and peak-memory ratios. ``cases``: every case with its wall, minimum, CPU,
    peak RSS and ratio to its reference (a floor or the other library).
    ``runs``: the machine, load, versions and data of each run shown.
    ``extrapolate``: the matching cases scaled to ``:volumes:`` volumes (time
    and, for libraries that load the whole run, memory above baseline grow in
    proportion; streamed cases keep their memory). Labelled as extrapolated.
``:volumes:``
    Run length for ``extrapolate`` (default 1200).
``:streamed:``
    Comma-separated substrings of the cases whose memory does not grow with
    the run (default ``regionkit``, ``floor``).

For each case the newest full-size run that has it is used (runs made with
``--quick`` are skipped). Pairs are formed inside one run only, so both sides of
a ratio were measured on the same machine in the same session. A footnote names
the run(s) each table comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

#: Libraries regionkit is compared with in the side-by-side tables.
OTHER_LIBRARIES = ("nilearn", "junifer")

#: Smallest run (volumes) published: smaller ones are smoke runs (``--quick``).
MIN_VOLUMES = 100


def load_runs(results_dir: Path) -> list[dict]:
    """Every full-size run record, newest first, with its file name as ``"file"``."""
    runs = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            logger.warning("benchmark results %s cannot be read: %s", path, error)
            continue
        shape = (record.get("data") or {}).get("bold_shape") or [0, 0, 0, 0]
        if len(shape) < 4 or shape[3] < MIN_VOLUMES or shape[0] < 40:
            continue
        record["file"] = path.name
        runs.append(record)
    runs.sort(key=lambda r: r["environment"]["timestamp_utc"], reverse=True)
    return runs


def _matches(name: str, patterns: list[str]) -> bool:
    return not patterns or any(p in name for p in patterns)


def _f(value, spec=".2f") -> str:
    return "-" if value is None else format(value, spec)


def newest_cases(runs: list[dict], patterns: list[str]) -> list[tuple[dict, dict]]:
    """``(run, case summary)`` for each matching case, from the newest run having it."""
    chosen: dict[str, tuple[dict, dict]] = {}
    for run in runs:  # newest first
        for name, summary in run["results"].items():
            if _matches(name, patterns) and name not in chosen:
                chosen[name] = (run, summary)
    return sorted(chosen.values(), key=lambda pair: pair[1]["name"])


def newest_pairs(runs: list[dict], patterns: list[str]) -> list[tuple[dict, dict, dict]]:
    """``(run, regionkit summary, nilearn summary)`` per task, newest run first."""
    pairs, done = [], set()
    for run in runs:
        by_task: dict[str, list[dict]] = {}
        for summary in run["results"].values():
            if _matches(summary["name"], patterns):
                by_task.setdefault(summary.get("task", summary["name"]), []).append(summary)
        for task, group in by_task.items():
            theirs = [s for s in group if s["library"] in OTHER_LIBRARIES]
            for ours in (s for s in group if s["library"] == "regionkit"):
                for other in theirs:
                    key = (ours["name"], other["name"])
                    if key not in done:
                        done.add(key)
                        pairs.append((run, ours, other))
    return sorted(pairs, key=lambda p: (p[1].get("task", ""), p[1]["name"]))


def describe_run(run: dict) -> str:
    env, data = run["environment"], run.get("data", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v)
    blas = "; ".join(
        f"{b.get('internal_api')} {b.get('architecture') or ''} "
        f"({b.get('num_threads')} threads)".replace("  ", " ")
        for b in env.get("blas_in_children", [])
    ) or "not recorded"
    load = ", ".join(f"{x:.1f}" for x in env.get("load_average_at_start", []))
    return (
        f"``{run['file']}``: {env['timestamp_utc']}, {env.get('cpu')} "
        f"({env.get('n_cpus')} CPUs, load average {load} at start), "
        f"Python {env.get('python')}, {versions}; BLAS {blas}; commit "
        f"``{env.get('git_commit')}``. Data: a {data.get('bold_shape')} float32 run, "
        f"{_f(data.get('bold_mib_on_disk'), '.0f')} MiB gzipped "
        f"({_f(data.get('bold_mib_raw'), '.0f')} MiB raw); median of "
        f"{run.get('repeat')} fresh processes per case."
    )


def _list_table(header: list[str], rows: list[list[str]], widths=None) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    if widths:
        lines.insert(1, f"   :widths: {' '.join(str(w) for w in widths)}")
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return lines + [""]


def rst_pairs(runs, patterns) -> list[str]:
    pairs = newest_pairs(runs, patterns)
    if not pairs:
        return []
    header = ["task", "regionkit case", "regionkit s", "regionkit MiB", "compared with",
              "its s", "its MiB", "time ratio", "memory ratio"]
    rows = []
    for _run, ours, theirs in pairs:
        rows.append([
            ours.get("task", ""), f"``{ours['name']}``",
            _f(ours["wall_s_median"]), _f(ours["peak_rss_mib_max"], ".0f"),
            f"``{theirs['name']}``",
            _f(theirs["wall_s_median"]), _f(theirs["peak_rss_mib_max"], ".0f"),
            _f(ours["wall_s_median"] / theirs["wall_s_median"]),
            _f(ours["peak_rss_mib_max"] / theirs["peak_rss_mib_max"]),
        ])
    files = sorted({run["file"] for run, _, _ in pairs})
    return _list_table(header, rows) + [
        "Median wall time and peak resident memory of each case in fresh processes; "
        "a ratio below 1 means regionkit is faster or leaner. From "
        + ", ".join(f"``benchmarks/results/{f}``" for f in files) + ".",
        "",
    ]


def rst_cases(runs, patterns) -> list[str]:
    chosen = newest_cases(runs, patterns)
    if not chosen:
        return []
    header = ["case", "library", "wall (s)", "min (s)", "CPU (s)", "peak RSS (MiB)",
              "above baseline (MiB)", "ratio", "ratio of mins", "CPU ratio", "vs"]
    rows = [[
        f"``{s['name']}``", s["library"], _f(s["wall_s_median"]), _f(s.get("wall_s_min")),
        _f(s.get("cpu_s_median")), _f(s["peak_rss_mib_max"], ".0f"),
        _f(s.get("peak_above_baseline_mib_max"), ".0f"), _f(s.get("ratio_to_reference")),
        _f(s.get("ratio_min_to_reference")), _f(s.get("cpu_ratio_to_reference")),
        f"``{s['reference']}``" if s.get("reference") else "",
    ] for _run, s in chosen]
    files = sorted({run["file"] for run, _ in chosen})
    return _list_table(header, rows) + [
        "From " + ", ".join(f"``benchmarks/results/{f}``" for f in files) + ".", "",
    ]


def rst_runs(runs, patterns) -> list[str]:
    used = {run["file"] for run, _ in newest_cases(runs, patterns)}
    lines = []
    for run in runs:
        if run["file"] in used:
            lines += [f"- {describe_run(run)}", ""]
    return lines


def rst_extrapolate(runs, patterns, volumes=1200, streamed=("regionkit", "floor")):
    chosen = newest_cases(runs, patterns)
    if not chosen:
        return []
    header = ["case", f"measured: {chosen[0][0]['data']['bold_shape'][3]} volumes, s (min)",
              "MiB above baseline", f"extrapolated: {volumes} volumes, s",
              "MiB above baseline (extrapolated)"]
    rows = []
    for run, s in chosen:
        measured_volumes = run["data"]["bold_shape"][3]
        factor = volumes / measured_volumes
        memory = s.get("peak_above_baseline_mib_max") or 0.0
        grows = not any(p in s["name"] for p in streamed)
        rows.append([
            f"``{s['name']}``", f"{s['wall_s_median']:.1f} ({s.get('wall_s_min', 0):.1f})",
            f"{memory:.0f}", f"~{s['wall_s_median'] * factor:.0f} (~{s.get('wall_s_min', 0) * factor:.0f})",
            f"~{memory * factor:.0f}" if grows else f"{memory:.0f} (streamed: unchanged)",
        ])
    files = sorted({run["file"] for run, _ in chosen})
    return _list_table(header, rows) + [
        f"Extrapolated linearly from the measured run (not measured at {volumes} volumes): "
        "time in proportion to the number of volumes; memory in proportion for cases "
        "that hold the whole run, unchanged for streamed cases. From "
        + ", ".join(f"``benchmarks/results/{f}``" for f in files) + ".", "",
    ]


class BenchmarkTable(SphinxDirective):
    has_content = False
    option_spec = {
        "match": directives.unchanged,
        "kind": lambda arg: directives.choice(arg, ("pairs", "cases", "runs", "extrapolate")),
        "volumes": directives.positive_int,
        "streamed": directives.unchanged,
    }

    def run(self):
        results_dir = Path(self.config.benchmark_results_dir)
        for path in results_dir.glob("*.json"):
            self.env.note_dependency(str(path))
        patterns = [p.strip() for p in self.options.get("match", "").split(",") if p.strip()]
        kind = self.options.get("kind", "pairs")
        runs = load_runs(results_dir)
        if kind == "extrapolate":
            streamed = tuple(p.strip() for p in
                             self.options.get("streamed", "regionkit,floor").split(",") if p.strip())
            lines = rst_extrapolate(runs, patterns, self.options.get("volumes", 1200), streamed)
        else:
            lines = {"pairs": rst_pairs, "cases": rst_cases, "runs": rst_runs}[kind](runs, patterns)
        if not lines:
            lines = [
                f"*No benchmark result matching* ``{', '.join(patterns) or 'any case'}`` "
                f"*in* ``benchmarks/results/`` *yet: run* ``python benchmarks/run.py`` "
                "*and rebuild.*",
                "",
            ]
        container = nodes.container(classes=["benchmark-table"])
        self.state.nested_parse(StringList(lines, source="benchmark-table"),
                                self.content_offset, container)
        return [container]


def setup(app):
    app.add_config_value("benchmark_results_dir", "", "env")
    app.add_directive("benchmark-table", BenchmarkTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
