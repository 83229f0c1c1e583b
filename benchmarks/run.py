"""Benchmark runner: each case in a fresh subprocess, wall time and peak RSS.

Usage::

    python benchmarks/run.py                      # every case, 3 repeats
    python benchmarks/run.py -k reader -k floor   # cases whose name contains a pattern
    python benchmarks/run.py --repeat 5 --blas-env default
    python benchmarks/run.py --list

Each repeat of each case runs in its own ``python`` process: the case's modules
are imported, the resident set size is read (the "baseline": interpreter plus
imports), then the case function is timed. The parent collects the child's
``ru_maxrss`` through ``os.wait4`` (peak RSS over the child's life) and reports
``peak - baseline`` as the memory the work itself needed. Results go to
``benchmarks/results/<stamp>.json`` and ``.md``; the markdown is also printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import generate_data  # noqa: E402
from benchmarks.cases import all_cases, get_case  # noqa: E402

logger = logging.getLogger("benchmarks.run")

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024
# Set on some machines to pin OpenBLAS to one kernel; ``--blas-env default``
# removes both so OpenBLAS picks the kernel for the CPU it finds.
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ----------------------------------------------------------------------------------
# Child side.
# ----------------------------------------------------------------------------------
def _current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _blas_info() -> list[dict]:
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [
        {key: info.get(key) for key in ("internal_api", "architecture", "version",
                                        "num_threads", "threading_layer")}
        for info in threadpoolctl.threadpool_info()
    ]


def split_output(output: dict) -> tuple[dict, dict]:
    """Separate the arrays a case returned from its small JSON facts.

    Returns ``(json_output, arrays)``; each array is replaced in the JSON part by
    its shape, dtype and float64 sum (NaN ignored).
    """
    import numpy as np

    facts, arrays = {}, {}
    for key, value in output.items():
        if isinstance(value, np.ndarray) or hasattr(value, "to_numpy"):
            array = np.asarray(value)
            arrays[key] = array
            facts[key] = {"shape": list(array.shape), "dtype": str(array.dtype),
                          "sum": float(np.nansum(array, dtype=np.float64))}
        else:
            facts[key] = value
    return facts, arrays


def measure_case(case, data, outputs_path=None) -> dict:
    """Import ``case.imports``, then time ``case.fn(data)`` in this process.

    Arrays in the case's output (e.g. signals) are taken out after the clock
    stops: saved to ``outputs_path`` (``.npz``) when given, and returned under
    ``"arrays"``; the JSON output keeps their shape, dtype and sum.

    Returns
    -------
    result : dict
        ``wall_s``, ``cpu_s``, ``baseline_rss_mib``, ``peak_rss_mib`` (this
        process's high-water mark so far), ``output`` (what the case returned),
        ``arrays``.
    """
    import importlib
    import resource

    for module in case.imports:
        importlib.import_module(module)
    import numpy  # noqa: F401  - so threadpoolctl sees the BLAS every case uses

    baseline = _current_rss_bytes()
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    output = case.fn(data)
    wall = time.perf_counter() - start
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    peak_rss = max(usage_after.ru_maxrss * 1024, _current_rss_bytes())
    output, arrays = split_output(output)
    if arrays and outputs_path is not None:
        import numpy as np

        Path(outputs_path).parent.mkdir(parents=True, exist_ok=True)
        np.savez(outputs_path, **arrays)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "baseline_rss_mib": baseline / MIB,
        # ru_maxrss is in KiB on Linux and can lag the current RSS slightly.
        "peak_rss_mib": peak_rss / MIB,
        "output": output,
        "arrays": arrays,
        "blas": _blas_info(),
    }


def _child_main(name, data_json, result_path, outputs_path) -> int:
    result = measure_case(get_case(name), json.loads(data_json), outputs_path)
    del result["arrays"]
    Path(result_path).write_text(json.dumps(result))
    return 0


# ----------------------------------------------------------------------------------
# Parent side.
# ----------------------------------------------------------------------------------
def child_env(blas_env: str) -> dict:
    """Environment of the children: inherited, or without OpenBLAS overrides."""
    env = dict(os.environ)
    if blas_env == "default":
        for key in BLAS_OVERRIDES:
            env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def outputs_file(outputs_dir: Path, name: str) -> Path:
    """Where case ``name``'s arrays are saved inside ``outputs_dir``."""
    return Path(outputs_dir) / (name.replace("/", "__") + ".npz")


def run_in_subprocess(name, data, env, timeout=1800, outputs_dir=None) -> dict:
    """Run one repeat of case ``name`` in a fresh interpreter and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", name,
                   "--data-json", json.dumps(data), "--result", str(result_path)]
        if outputs_dir is not None:
            command += ["--outputs", str(outputs_file(outputs_dir, name))]
        load = os.getloadavg()
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout, stderr = process.communicate(timeout=timeout)
        elapsed = time.perf_counter() - start
        if process.returncode != 0:
            raise RuntimeError(
                f"case {name} failed (exit {process.returncode}):\n{stderr.decode()[-3000:]}"
            )
        result = json.loads(result_path.read_text())
    result["process_wall_s"] = elapsed
    result["load_average_before"] = load
    result["child_maxrss_mib"] = usage.ru_maxrss * 1024 / MIB
    result["peak_above_baseline_mib"] = (
        result["child_maxrss_mib"] - result["baseline_rss_mib"]
    )
    return result


def summarize(name, case, repeats) -> dict:
    repeats = [{k: v for k, v in r.items() if k != "arrays"} for r in repeats]
    walls = [r["wall_s"] for r in repeats]
    return {
        "name": name,
        "task": case.task,
        "library": case.library,
        "reference": case.reference,
        "floor": case.params.get("floor"),
        "compare_to": case.params.get("compare_to"),
        "description": case.description,
        "repeats": repeats,
        "wall_s_median": statistics.median(walls),
        "wall_s_min": min(walls),
        "cpu_s_median": statistics.median(r["cpu_s"] for r in repeats),
        # The peak read in the child right after the timed call: the child's
        # whole-life maximum (child_maxrss_mib, kept in each repeat) also counts
        # the runner's own np.savez of the outputs, which is not the case's work.
        "peak_rss_mib_max": max(r.get("peak_rss_mib", r["child_maxrss_mib"]) for r in repeats),
        "baseline_rss_mib_median": statistics.median(r["baseline_rss_mib"] for r in repeats),
        "peak_above_baseline_mib_max": max(
            r.get("peak_rss_mib", r["child_maxrss_mib"]) - r["baseline_rss_mib"]
            for r in repeats
        ),
        "output": repeats[-1]["output"],
    }


def add_ratios(results: dict) -> None:
    """Ratios to the reference case: of median walls, of min walls, of median CPU.

    The same three ratios to the case's ``floor`` (a decode floor) when it has
    one and the floor was run. On a shared machine the min-wall and CPU ratios
    are the steadier ones.
    """
    for summary in results.values():
        for target, suffix in (("reference", "reference"), ("floor", "floor")):
            other = results.get(summary.get(target) or "")
            for key, stat in ((f"ratio_to_{suffix}", "wall_s_median"),
                              (f"ratio_min_to_{suffix}", "wall_s_min"),
                              (f"cpu_ratio_to_{suffix}", "cpu_s_median")):
                summary[key] = (
                    summary[stat] / other[stat] if other and other[stat] else None
                )
        reference = results.get(summary.get("compare_to") or "")
        summary["memory_ratio_to_compare"] = (
            summary["peak_rss_mib_max"] / reference["peak_rss_mib_max"]
            if reference else None
        )


RTOL = 1e-4


def difference_stats(ours, theirs, rtol=RTOL) -> dict:
    """How far ``ours`` is from ``theirs`` (the oracle), elementwise.

    ``max_rel_diff`` is ``max |a - b| / |b|`` over the entries where ``b != 0``;
    z-scored signals cross zero, so it is dominated by entries near zero. The
    pass criterion is ``|a - b| <= rtol * |b| + rtol * rms(b)`` everywhere (an
    absolute floor of ``rtol`` times the signals' typical size), NaN where the
    other is NaN.
    """
    import numpy as np

    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        return {"shape": list(a.shape), "shape_other": list(b.shape),
                "equal_within_rtol": False}
    finite = np.isfinite(a) & np.isfinite(b)
    nan_mismatch = int((np.isnan(a) != np.isnan(b)).sum())
    diff = np.abs(a - b)[finite]
    scale = np.abs(b)[finite]
    rms = float(np.sqrt(np.mean(scale**2))) if scale.size else 0.0
    nonzero = scale > 0
    return {
        "shape": list(a.shape),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "max_rel_diff": float((diff[nonzero] / scale[nonzero]).max()) if nonzero.any()
        else 0.0,
        "rms_other": rms,
        "max_abs_diff_over_rms": float(diff.max() / rms) if diff.size and rms else 0.0,
        "n_outside_rtol_only": int((diff > rtol * scale).sum()),
        "n_nan_mismatch": nan_mismatch,
        "equal_within_rtol": bool(nan_mismatch == 0
                                  and np.all(diff <= rtol * scale + rtol * rms)),
        "rtol": rtol,
    }


def _load_arrays(path: Path) -> dict | None:
    import numpy as np

    if not path.is_file():
        return None
    with np.load(path) as saved:
        return {key: saved[key] for key in saved.files}


def compare_outputs(results, cases, outputs_dir, data, env) -> None:
    """Add ``accuracy`` to every result whose case names a ``compare_to`` case.

    Per array the case returned: :func:`difference_stats` against the oracle's.
    If any array misses the rtol criterion and the case names an ``exact``
    (float64 reference) case, that case is run once, untimed, and both outputs
    are compared with it: ``closer`` says which one is nearer (max abs diff).
    """
    exact_run = {}
    for name, summary in results.items():
        other = cases[name].params.get("compare_to")
        if not other:
            continue
        ours = _load_arrays(outputs_file(outputs_dir, name))
        theirs = _load_arrays(outputs_file(outputs_dir, other))
        if ours is None or theirs is None:
            summary["accuracy"] = {"compared_to": other, "missing": True}
            continue
        per_key = {key: difference_stats(ours[key], theirs[key])
                   for key in ours if key in theirs}
        accuracy = {"compared_to": other, "arrays": per_key,
                    "equal_within_rtol": all(s["equal_within_rtol"]
                                             for s in per_key.values())}
        exact = cases[name].params.get("exact")
        if not accuracy["equal_within_rtol"] and exact and exact in cases:
            if exact not in exact_run:
                logger.info("float64 reference %s (untimed)", exact)
                try:
                    run_in_subprocess(exact, data, env, outputs_dir=outputs_dir)
                    exact_run[exact] = _load_arrays(outputs_file(outputs_dir, exact))
                except RuntimeError as error:
                    logger.error("float64 reference %s failed: %s", exact, error)
                    exact_run[exact] = None
            reference = exact_run[exact]
            accuracy["float64_reference"] = exact if reference is not None else None
            for key, stats in (per_key.items() if reference is not None else ()):
                ours_vs = difference_stats(ours[key], reference[key])
                theirs_vs = difference_stats(theirs[key], reference[key])
                stats["ours_vs_float64"] = ours_vs
                stats["other_vs_float64"] = theirs_vs
                stats["closer_to_float64"] = (
                    summary["library"] if ours_vs["max_abs_diff"] < theirs_vs["max_abs_diff"]
                    else cases[other].library
                    if ours_vs["max_abs_diff"] > theirs_vs["max_abs_diff"] else "tie"
                )
        summary["accuracy"] = accuracy


def environment(blas_env: str, blas_seen) -> dict:
    """Versions, CPU and BLAS facts for the JSON record."""
    import zlib
    from importlib import metadata

    versions = {}
    for package in ("regionkit", "numpy", "nibabel", "nilearn", "isal", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = None
    return {
        "timestamp_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "n_cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "zlib_runtime": zlib.ZLIB_RUNTIME_VERSION,
        "versions": versions,
        "git_commit": commit,
        "blas_env": blas_env,
        "blas_overrides_in_parent": {k: os.environ.get(k) for k in BLAS_OVERRIDES},
        "blas_in_children": blas_seen,
    }


def _fmt(value, spec=".2f"):
    return "-" if value is None else format(value, spec)


def _load_text(env) -> str:
    text = f"load {', '.join(f'{x:.1f}' for x in env['load_average_at_start'])} at start"
    if env.get("load_average_at_end"):
        text += f", {', '.join(f'{x:.1f}' for x in env['load_average_at_end'])} at end"
    return text


def _short(value) -> str:
    return "-" if value is None else f"{value:.1e}"


def markdown_report(record: dict) -> str:
    """Markdown tables: every case; regionkit side by side with the other
    libraries; accuracy and targets for cases compared with an oracle."""
    env = record["environment"]
    data = record["data"]
    blas = "; ".join(
        f"{b['internal_api']} {b['architecture']} ({b['num_threads']} threads)"
        for b in env["blas_in_children"]
    ) or "none seen"
    lines = [
        f"Run of {env['timestamp_utc']} on {env['cpu']} ({env['n_cpus']} CPUs, "
        f"{_load_text(env)}), "
        f"Python {env['python']}, zlib {env['zlib_runtime']}, "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v)
        + f"; BLAS: {blas}; commit {env['git_commit']}.",
        "",
        f"Data: {data.get('bold_shape')} float32 run, "
        f"{_fmt(data.get('bold_mib_on_disk'), '.0f')} MiB on disk "
        f"({_fmt(data.get('bold_mib_raw'), '.0f')} MiB raw). "
        f"Median of {record['repeat']} fresh processes (repeats interleaved); "
        "peak = max over repeats; 'above baseline' = peak RSS minus the RSS after "
        "imports, before the timed call.",
        "",
        "| case | library | wall (s) | min (s) | CPU (s) | peak RSS (MiB) "
        "| above baseline (MiB) | ratio | ratio of mins | CPU ratio | vs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in record["results"].values():
        lines.append(
            f"| {s['name']} | {s['library']} | {s['wall_s_median']:.2f} | "
            f"{s['wall_s_min']:.2f} | {s['cpu_s_median']:.2f} | "
            f"{s['peak_rss_mib_max']:.0f} | {s['peak_above_baseline_mib_max']:.0f} | "
            f"{_fmt(s['ratio_to_reference'])} | {_fmt(s.get('ratio_min_to_reference'))} | "
            f"{_fmt(s.get('cpu_ratio_to_reference'))} | {s['reference'] or ''} |"
        )
    pairs = []
    by_task = {}
    for s in record["results"].values():
        by_task.setdefault(s["task"], []).append(s)
    for task, group in by_task.items():
        others = [s for s in group
                  if s["library"] not in ("regionkit", "floor", "float64")]
        for ours in (s for s in group if s["library"] == "regionkit"):
            for theirs in others:
                pairs.append((task, ours, theirs))
    if pairs:
        lines += [
            "",
            "| task | regionkit case | s | CPU s | MiB | other case | s | CPU s | MiB "
            "| time ratio | CPU ratio | memory ratio |",
            "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for task, ours, theirs in pairs:
            lines.append(
                f"| {task} | {ours['name']} | {ours['wall_s_median']:.2f} | "
                f"{ours['cpu_s_median']:.2f} | "
                f"{ours['peak_rss_mib_max']:.0f} | {theirs['name']} | "
                f"{theirs['wall_s_median']:.2f} | {theirs['cpu_s_median']:.2f} | "
                f"{theirs['peak_rss_mib_max']:.0f} | "
                f"{ours['wall_s_median'] / theirs['wall_s_median']:.2f} | "
                f"{_fmt(ours['cpu_s_median'] / theirs['cpu_s_median'] if theirs['cpu_s_median'] else None)} | "
                f"{ours['peak_rss_mib_max'] / theirs['peak_rss_mib_max']:.2f} |"
            )
    lines += accuracy_table(record)
    for name, failure in (record.get("failed") or {}).items():
        first = failure["error"].splitlines()[0] if failure["error"] else ""
        hint = " (killed: SIGKILL, most likely out of memory)" if "exit -9" in first else ""
        lines += ["", f"Failed: `{name}`, repeat {failure['repeat']}: {first}{hint}"]
    return "\n".join(lines) + "\n"


def accuracy_table(record: dict) -> list[str]:
    """Lines of the targets table (empty when no case has an oracle or floor).

    Speed-up = oracle / regionkit (median wall, min wall, median CPU); floor
    ratios are regionkit / ISA-L floor; differences per output array.
    """
    results = record["results"]
    rows = [s for s in results.values() if s.get("compare_to") or
            (s.get("floor") and s["library"] == "regionkit")]
    if not rows:
        return []
    lines = [
        "",
        "| case | vs | speed-up (median / min / CPU) | memory ratio | vs floor "
        "(median / min / CPU) | output | max abs diff | max rel diff "
        f"| within rtol {RTOL:g} | closer to float64 |",
        "|---|---|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for s in rows:
        other = results.get(s.get("compare_to") or "")

        def inverse(key):
            value = s.get(key)
            return _fmt(1 / value, ".1f") if value else "-"

        speed = (f"{inverse('ratio_to_reference')} / {inverse('ratio_min_to_reference')}"
                 f" / {inverse('cpu_ratio_to_reference')}") if other else "-"
        floor = (f"{_fmt(s.get('ratio_to_floor'))} / {_fmt(s.get('ratio_min_to_floor'))}"
                 f" / {_fmt(s.get('cpu_ratio_to_floor'))}")
        memory = _fmt(s.get("memory_ratio_to_compare"))
        accuracy = s.get("accuracy") or {}
        arrays = accuracy.get("arrays") or {"-": {}}
        for index, (key, stats) in enumerate(arrays.items()):
            head = (f"| {s['name']} | {s.get('compare_to') or ''} | {speed} | {memory} | "
                    f"{floor} |") if index == 0 else "| | | | | |"
            within = stats.get("equal_within_rtol")
            closer = stats.get("closer_to_float64")
            if closer:
                closer += (f" ({_short(stats['ours_vs_float64']['max_abs_diff'])} vs "
                           f"{_short(stats['other_vs_float64']['max_abs_diff'])})")
            lines.append(
                f"{head} {key} | {_short(stats.get('max_abs_diff'))} | "
                f"{_short(stats.get('max_rel_diff'))} | "
                f"{'-' if within is None else ('yes' if within else 'no')} | "
                f"{closer or '-'} |"
            )
    return lines


def data_facts(manifest: dict) -> dict:
    params = manifest["params"]
    return {
        "bold_shape": [*params["shape"], params["n_volumes"]],
        "bold_mib_on_disk": manifest["bold_bytes_on_disk"] / MIB,
        "bold_mib_raw": manifest["bold_bytes_raw"] / MIB,
        "params": params,
    }


def write_record(record: dict, out_dir: Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    md_path = out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(record, indent=2, default=float) + "\n")
    md_path.write_text(markdown_report(record))
    return json_path, md_path


def _unique(items) -> list:
    unique = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique


def select_cases(patterns) -> dict:
    cases = all_cases()
    if patterns:
        cases = {n: c for n, c in cases.items() if any(p in n for p in patterns)}
    return cases


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="run cases whose name contains this (repeatable)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="default: benchmarks/data/<mni2mm|quick>-<n_volumes>")
    parser.add_argument("--n-volumes", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="tiny data (smoke run)")
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--blas-env", choices=["inherit", "default"], default="default",
                        help="'default' unsets OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE "
                             "in the children")
    parser.add_argument("--list", action="store_true", help="list cases and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data-json", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--outputs", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child_main(args.child, args.data_json, args.result, args.outputs)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    cases = select_cases(args.patterns)
    if args.list:
        for name, c in cases.items():
            untimed = " (untimed reference)" if c.params.get("accuracy_only") else ""
            sys.stdout.write(f"{name:36s} {c.library:10s} {c.description}{untimed}\n")
        return 0
    n_volumes = 20 if args.quick else args.n_volumes
    data_dir = args.data_dir or generate_data.default_dir(n_volumes, args.quick)
    manifest = generate_data.generate(data_dir, n_volumes=n_volumes, quick=args.quick)
    data = dict(manifest["files"])
    env = child_env(args.blas_env)
    blas_seen = []
    all_registered = all_cases()
    for name, c in list(cases.items()):
        if not c.available():
            logger.info("skip %s: needs %s", name, ", ".join(c.requires))
            del cases[name]
        elif c.params.get("accuracy_only"):
            del cases[name]  # run once, untimed, by compare_outputs when needed
    stem = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + ("-quick" if args.quick else "")
    # Outputs (signals) of this run, for the accuracy comparison; not committed.
    outputs_dir = args.out_dir / "raw" / stem
    start_environment = environment(args.blas_env, [])
    # Repeats are interleaved (every case once, then again) so that the load of a
    # shared machine spreads over all cases rather than penalising one.
    repeats = {name: [] for name in cases}
    failed = {}
    for i in range(args.repeat):
        for name in cases:
            if name in failed:
                continue
            try:
                result = run_in_subprocess(name, data, env, outputs_dir=outputs_dir)
            except RuntimeError as error:
                # One failing case (e.g. killed when out of memory: exit -9) must
                # not lose the others' results: record it and go on.
                logger.error("%s repeat %d failed: %s", name, i + 1, error)
                failed[name] = {"repeat": i + 1, "error": str(error)[-2000:]}
                continue
            logger.info("%-26s repeat %d: %.2f s (CPU %.2f s), peak %.0f MiB (+%.0f)",
                        name, i + 1, result["wall_s"], result["cpu_s"],
                        result["child_maxrss_mib"], result["peak_above_baseline_mib"])
            repeats[name].append(result)
            if result["blas"] and result["blas"] not in blas_seen:
                blas_seen.append(result["blas"])
    results = {name: summarize(name, cases[name], repeats[name]) for name in cases
               if name not in failed}
    add_ratios(results)
    compare_outputs(results, all_registered, outputs_dir, data, env)
    environment_record = environment(args.blas_env,
                                     _unique(b for seen in blas_seen for b in seen))
    environment_record["load_average_at_end"] = environment_record["load_average_at_start"]
    for key in ("timestamp_utc", "load_average_at_start", "git_commit"):
        environment_record[key] = start_environment[key]
    record = {
        "environment": environment_record,
        "data": data_facts(manifest),
        "repeat": args.repeat,
        "results": results,
        "failed": failed,
    }
    json_path, md_path = write_record(record, args.out_dir, stem)
    sys.stdout.write(md_path.read_text())
    logger.info("wrote %s and %s", json_path, md_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
