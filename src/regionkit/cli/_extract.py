"""``regionkit extract``: region time series for a cohort of preprocessed runs."""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

from .._version import __version__

logger = logging.getLogger(__name__)

__all__ = ["add_extract_parser", "run_extract", "UsageError"]

# Component tokens of --confounds (see _confounds_spec).
_CONFOUND_TOKENS = {
    "motion6": {"motion": "basic"},
    "motion12": {"motion": "derivatives"},
    "motion24": {"motion": "full"},
    "wm_csf": {"wm_csf": "basic"},
    "wm_csf8": {"wm_csf": "full"},
    "global_signal": {"global_signal": "basic"},
    "gsr": {"global_signal": "basic"},
    "global_signal4": {"global_signal": "full"},
    "high_pass": {},
    "cosine": {},
    "acompcor": {"compcor": "anat_combined"},
    "tcompcor": {"compcor": "temporal"},
    "compcor": {"compcor": "anat_combined"},
    "aroma": {"ica_aroma": "basic"},
    "scrub": {},
    "scrubbing": {},
}
_TOKEN_COMPONENT = {
    "motion6": "motion", "motion12": "motion", "motion24": "motion",
    "wm_csf": "wm_csf", "wm_csf8": "wm_csf",
    "global_signal": "global_signal", "gsr": "global_signal", "global_signal4": "global_signal",
    "high_pass": "high_pass", "cosine": "high_pass",
    "acompcor": "compcor", "tcompcor": "compcor", "compcor": "compcor",
    "aroma": "ica_aroma", "scrub": "scrub", "scrubbing": "scrub",
}
_FILTERING = ("low_pass", "high_pass")


class UsageError(Exception):
    """A bad command line: reported in one line, exit status 2."""


class _LutAction(argparse.Action):
    """``--lut TSV`` attaches to the ``--labels`` given just before it."""

    def __call__(self, parser, namespace, values, option_string=None):
        labels = getattr(namespace, "labels", None) or []
        luts = list(getattr(namespace, "luts", None) or [])
        if not labels:
            parser.error("--lut must follow the --labels IMG it describes")
        luts += [None] * (len(labels) - len(luts))
        luts[-1] = values
        namespace.luts = luts


def _float_or_none(text: str) -> float | None:
    if text.lower() in ("none", "off"):
        return None
    return float(text)


def add_extract_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``extract`` command to ``subparsers``."""
    p = subparsers.add_parser(
        "extract",
        help="extract region time series from a BIDS derivatives folder or files",
        description=(
            "Extract region time series from preprocessed runs (a BIDS derivatives "
            "folder in fMRIPrep layout, or NIfTI files/globs) into BIDS derivatives "
            "outputs. Resumable: rerunning skips outputs whose sidecar matches."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a BIDS derivatives folder, or NIfTI files / quoted glob patterns")
    p.add_argument("output_dir", metavar="OUTPUT_DIR", help="output folder (BIDS derivatives)")
    g = p.add_argument_group("selection (BIDS filters)")
    g.add_argument("--participant-label", nargs="+", metavar="LABEL")
    g.add_argument("--session", nargs="+", metavar="LABEL")
    g.add_argument("--task", nargs="+", metavar="LABEL")
    g.add_argument("--run", nargs="+", metavar="LABEL")
    g.add_argument("--space", nargs="+", metavar="LABEL")
    g = p.add_argument_group("atlases (several are extracted from one read of each run)")
    g.add_argument("--spheres", action="append", default=[], metavar="NAME|FILE.tsv",
                   help="power264, dosenbach160, seitzman300, or a TSV with x, y, z (and name) columns")
    g.add_argument("--radius", type=float, default=5.0, metavar="MM", help="sphere radius (default 5)")
    g.add_argument("--allow-overlap", action="store_true", help="let spheres overlap")
    g.add_argument("--agg", default="mean", metavar="LIST",
                   help="comma-separated statistics per region: mean, median, std, "
                        "eigenvariate (spheres); mean, median, std, sum, min, max, var (labels)")
    g.add_argument("--labels", action="append", default=[], metavar="IMG", help="a labels image")
    g.add_argument("--lut", action=_LutAction, metavar="TSV",
                   help="look-up table (index, name) of the preceding --labels")
    g.add_argument("--maps", action="append", default=[], metavar="IMG", help="a 4D maps image")
    g.add_argument("--min-coverage", type=float, default=None, metavar="F",
                   help="write n/a for regions whose coverage (fraction of voxels in the "
                        "image's field of view and mask) is below F")
    g = p.add_argument_group("cleaning (as the maskers' parameters)")
    g.add_argument("--detrend", action="store_true")
    g.add_argument("--standardize", default="none",
                   choices=["none", "zscore_sample", "zscore", "psc"])
    g.add_argument("--no-standardize-confounds", action="store_true")
    g.add_argument("--low-pass", type=_float_or_none, default=None, metavar="HZ")
    g.add_argument("--high-pass", type=_float_or_none, default=None, metavar="HZ")
    g.add_argument("--t-r", type=float, default=None, metavar="S",
                   help="repetition time; default: each run's sidecar RepetitionTime")
    g.add_argument("--smoothing-fwhm", type=float, default=None, metavar="MM")
    g.add_argument("--confounds", default=None, metavar="SPEC",
                   help="fMRIPrep confounds: a strategy (simple, scrubbing, compcor, ica_aroma) "
                        "or comma-separated components (motion6, motion12, motion24, wm_csf, "
                        "wm_csf8, global_signal, global_signal4, high_pass, acompcor, tcompcor, "
                        "aroma, scrub) and column names")
    g.add_argument("--fd-threshold", type=float, default=None, metavar="MM",
                   help="scrubbing: framewise displacement threshold (default 0.5)")
    g.add_argument("--std-dvars-threshold", type=float, default=None, metavar="Z",
                   help="scrubbing: standardized DVARS threshold (default 1.5)")
    g.add_argument("--min-segment", type=int, default=None, metavar="N",
                   help="scrubbing: drop kept segments shorter than N volumes (default 5)")
    g.add_argument("--n-compcor", default=None, metavar="N|all")
    g = p.add_argument_group("outputs and execution")
    g.add_argument("--format", default="tsv", choices=["tsv", "parquet"])
    g.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="operator cache (default OUTPUT_DIR/.regionkit-cache)")
    g.add_argument("--n-jobs", type=int, default=1, metavar="N", help="worker processes (joblib)")
    g.add_argument("--dask", default=None, metavar="local|local-threads|slurm|ADDRESS",
                   help="run on Dask: a local cluster of --n-jobs workers, a SLURM cluster "
                        "(dask-jobqueue) of --n-jobs jobs, or a scheduler address")
    g.add_argument("--slurm-queue", default=None, metavar="PARTITION")
    g.add_argument("--slurm-account", default=None, metavar="ACCOUNT")
    g.add_argument("--slurm-cores", type=int, default=1, metavar="N",
                   help="cores (worker threads) per SLURM job (default 1)")
    g.add_argument("--slurm-memory", default="4GB", metavar="MEM", help="per job (default 4GB)")
    g.add_argument("--slurm-walltime", default="01:00:00", metavar="HH:MM:SS")
    g.add_argument("--slurm-scheduler-host", default=None, metavar="HOST",
                   help="address the Dask scheduler listens on (reachable from the nodes)")
    g.add_argument("--slurm-extra", action="append", default=[], metavar="DIRECTIVE")
    g.add_argument("--slurm-print-job-script", action="store_true",
                   help="print the SLURM job script and exit without submitting")
    g.add_argument("--stop-on-first-crash", action="store_true")
    g.add_argument("--dry-run", action="store_true", help="list the work and exit")
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


# --------------------------------------------------------------------------
# argument checks (before any heavy work)
# --------------------------------------------------------------------------
def _confounds_spec(args) -> tuple[dict | None, str | None]:
    """load_confounds_file keyword arguments and the desc- label, or (None, None)."""
    from ..confounds import PRESETS

    text = args.confounds
    if text is None or text.lower() == "none":
        return None, None
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    if len(tokens) == 1 and tokens[0] in PRESETS:
        preset = {k: v for k, v in PRESETS[tokens[0]].items() if v is not None}
        spec = dict(preset, strategy=list(preset["strategy"]))
    else:
        spec = {"strategy": [], "columns": []}
        for token in tokens:
            if token in PRESETS:
                raise UsageError(
                    f"--confounds: the strategy {token!r} cannot be combined with other items "
                    f"(got {text!r})."
                )
            if token in _CONFOUND_TOKENS:
                component = _TOKEN_COMPONENT[token]
                if component not in spec["strategy"]:
                    spec["strategy"].append(component)
                spec.update(_CONFOUND_TOKENS[token])
                if component == "compcor" and "high_pass" not in spec["strategy"]:
                    spec["strategy"].append("high_pass")
            elif re.fullmatch(r"[A-Za-z0-9_]+", token):
                spec["columns"].append(token)
            else:
                raise UsageError(f"--confounds: {token!r} is neither a component nor a column name.")
    if args.fd_threshold is not None:
        spec["fd_threshold"] = args.fd_threshold
    if args.std_dvars_threshold is not None:
        spec["std_dvars_threshold"] = args.std_dvars_threshold
    if args.min_segment is not None:
        spec["scrub"] = args.min_segment
    if args.n_compcor is not None:
        spec["n_compcor"] = "all" if args.n_compcor == "all" else int(args.n_compcor)
    desc = re.sub(r"[^A-Za-z0-9]", "", "".join(t.title() if i else t for i, t in enumerate(tokens)))
    return spec, desc


def _check_args(args) -> None:
    inputs = [Path(i).resolve() for i in args.inputs]
    output = Path(args.output_dir).resolve()
    if output in inputs:
        raise UsageError(f"OUTPUT_DIR {args.output_dir!r} must differ from the input folder.")
    if args.radius < 0 or not math.isfinite(args.radius):
        raise UsageError(f"--radius must be >= 0 mm, got {args.radius:g}.")
    if args.n_jobs < 1:
        raise UsageError(f"--n-jobs must be >= 1, got {args.n_jobs}.")
    if args.min_coverage is not None and not 0 <= args.min_coverage <= 1:
        raise UsageError(f"--min-coverage must be in [0, 1], got {args.min_coverage:g}.")
    if args.t_r is not None and not args.t_r > 0:
        raise UsageError(f"--t-r must be > 0 s, got {args.t_r:g}.")
    for name in ("low_pass", "high_pass"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0 Hz, got {value:g}.")
    if not (args.spheres or args.labels or args.maps):
        raise UsageError("no atlas: give --spheres, --labels or --maps.")
    from .cohort._atlases import AGGREGATIONS

    for agg in args.agg.split(","):
        if agg not in AGGREGATIONS:
            raise UsageError(f"--agg {agg!r} is not one of {', '.join(AGGREGATIONS)}.")


def _masker_params(args) -> dict:
    return {
        "detrend": bool(args.detrend),
        "standardize": None if args.standardize == "none" else args.standardize,
        "standardize_confounds": not args.no_standardize_confounds,
        "low_pass": args.low_pass,
        "high_pass": args.high_pass,
        "t_r": args.t_r,
        "smoothing_fwhm": args.smoothing_fwhm,
    }


# --------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------
def _header_geometry(path: Path) -> tuple[tuple, np.ndarray, int]:
    import nibabel as nib

    img = nib.load(str(path))
    shape = img.shape
    if len(shape) != 4:
        raise ValueError(f"{path.name!r} must be a 4D image, got a {len(shape)}D image of shape {shape}.")
    return shape, img.affine, int(shape[3])


def _grid_key(shape: tuple, affine: np.ndarray) -> str:
    return f"{shape[0]}x{shape[1]}x{shape[2]}:" + ",".join(f"{v:.4f}" for v in affine[:3].ravel())


def _is_complete(job, settings_params_hashes) -> bool:
    import json

    from .cohort._outputs import inputs_unchanged

    for output in job.outputs:
        if not (output.sidecar.is_file() and output.data.is_file()):
            return False
        try:
            with open(output.sidecar, encoding="utf-8") as handle:
                recorded = json.load(handle)
        except (OSError, ValueError):
            return False
        if recorded.get("ParametersHash") != output.params_hash:
            return False
        paths = {}
        for rel in recorded.get("Inputs", {}):
            path = Path(rel)
            paths[rel] = path if path.is_absolute() else job.run.root / path
        if job.run.relpath not in paths or not inputs_unchanged(recorded["Inputs"], paths):
            return False
    return True


def run_extract(args, out=None) -> int:
    """Run ``regionkit extract`` with parsed arguments; return the exit status."""
    out = out or sys.stdout
    from .cohort._atlases import build_targets, fit_targets, make_spec
    from .cohort._index import find_runs, output_prefix
    from .cohort._outputs import params_hash, remove_temporaries, write_json, write_text
    from .cohort._runner import OutputSpec, RunJob, Settings, execute

    started = time.perf_counter()
    _check_args(args)
    if args.slurm_print_job_script:
        if args.dask != "slurm":
            raise UsageError("--slurm-print-job-script needs --dask slurm.")
        from .cohort._dask import slurm_cluster

        cluster = slurm_cluster(
            queue=args.slurm_queue, account=args.slurm_account, cores=args.slurm_cores,
            memory=args.slurm_memory, walltime=args.slurm_walltime, job_extra=args.slurm_extra,
            scheduler_host=args.slurm_scheduler_host,
        )
        try:
            print(cluster.job_script(), file=out)
        finally:
            cluster.close()
        return 0
    confounds, desc = _confounds_spec(args)
    aggs = args.agg.split(",")
    try:
        specs = [make_spec("spheres", s) for s in args.spheres]
        luts = list(getattr(args, "luts", None) or []) + [None] * len(args.labels)
        specs += [make_spec("labels", s, luts[i]) for i, s in enumerate(args.labels)]
        specs += [make_spec("maps", s) for s in args.maps]
    except ValueError as error:
        raise UsageError(str(error)) from None
    masker_params = _masker_params(args)
    try:
        targets = build_targets(specs, aggs, args.radius, args.allow_overlap, masker_params)
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        runs = find_runs(args.inputs, args.participant_label, args.task, args.session,
                         args.space, args.run)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not runs:
        raise UsageError(f"no run matches: no *_desc-preproc_bold.nii[.gz] in {' '.join(args.inputs)} "
                         "with the given filters.")
    output_dir = Path(args.output_dir).resolve()
    cache_dir = Path(args.cache_dir) if args.cache_dir else output_dir / ".regionkit-cache"

    params = {
        "masker": {k: v for k, v in masker_params.items()},
        "radius": args.radius,
        "allow_overlap": args.allow_overlap,
        "confounds": confounds,
        "min_coverage": args.min_coverage,
        "format": args.format,
        "regionkit_version": __version__,
    }
    settings = Settings(
        output_dir=output_dir,
        fmt=args.format,
        params=params,
        confounds=confounds,
        needs_t_r=args.t_r is None and (args.low_pass is not None or args.high_pass is not None),
        min_coverage=args.min_coverage,
    )
    extension = "tsv" if args.format == "tsv" else "parquet"

    # plan: header of each run (grid), outputs, skip test
    jobs, early_failures, geometry = [], [], {}
    for run in runs:
        try:
            shape, affine, n_volumes = _header_geometry(run.bold)
            t_r = args.t_r if args.t_r is not None else run.repetition_time()
        except Exception as error:  # recorded as a failure
            import traceback

            early_failures.append({
                "run": run.relpath, "status": "failed", "error": type(error).__name__,
                "message": " ".join(str(error).split()), "traceback": traceback.format_exc(),
            })
            continue
        grid = _grid_key(shape, affine)
        geometry[grid] = (shape, affine)
        folder, prefix = output_prefix(run)
        outputs = []
        for target in targets:
            parts = [prefix, f"atlas-{target.atlas.name}"]
            if desc:
                parts.append(f"desc-{desc}")
            parts.append(f"stat-{target.stat}")
            base = output_dir / folder / ("_".join(parts) + "_timeseries")
            outputs.append(OutputSpec(
                target_key=target.key,
                data=base.with_name(base.name + "." + extension),
                sidecar=base.with_name(base.name + ".json"),
                params_hash=params_hash({"params": params, "atlas": target.identity}),
                identity=target.identity,
                region_names=None if target.region_names is None else tuple(target.region_names),
            ))
        confounds_file = None
        jobs.append(RunJob(run, grid, n_volumes, t_r, confounds_file, outputs))

    removed = remove_temporaries(output_dir)
    if removed:
        print(f"removed {removed} temporary file(s) left by an interrupted run", file=out)
    todo = [job for job in jobs if not _is_complete(job, None)]
    skipped = len(jobs) - len(todo)

    if args.dry_run:
        print(f"{len(runs)} run(s): {len(todo)} to extract, {skipped} up to date, "
              f"{len(early_failures)} unreadable; {len(targets)} output(s) per run", file=out)
        for job in todo:
            for output in job.outputs:
                print(f"  {job.run.relpath} -> {output.data.relative_to(output_dir)}", file=out)
        for failure in early_failures:
            print(f"  unreadable: {failure['run']}: {failure['message']}", file=out)
        return 0

    # dataset_description.json (deterministic bytes)
    description = {
        "Name": "regionkit extract",
        "BIDSVersion": "1.9.0",
        "DatasetType": "derivative",
        "GeneratedBy": [{
            "Name": "regionkit",
            "Version": __version__,
            "ConfigurationHash": params_hash({"params": params,
                                              "atlases": [t.identity for t in targets]}),
        }],
    }
    if len(args.inputs) == 1 and Path(args.inputs[0]).is_dir():
        description["DatasetLinks"] = {"preprocessed": Path(args.inputs[0]).resolve().as_uri()}
    write_json(output_dir / "dataset_description.json", description)

    # fit once per grid (cached on disk by content hash)
    maskers_by_grid = {}
    needed = {job.grid for job in todo}
    fit_start = time.perf_counter()
    for grid in needed:
        shape, affine = geometry[grid]
        try:
            maskers_by_grid[grid] = fit_targets(targets, shape, affine, cache_dir)
        except Exception as error:  # fails that grid's runs
            maskers_by_grid[grid] = error
    fit_seconds = time.perf_counter() - fit_start

    progress = None
    if not args.no_progress and todo:
        try:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(todo), unit="run", desc="regionkit extract",
                            file=sys.stderr, disable=None)
        except ImportError:  # pragma: no cover
            progress = None

    def on_result(result):
        if progress is not None:
            progress.update(1)
            if result["status"] == "failed":
                progress.set_postfix(failed=progress.n)

    extract_start = time.perf_counter()
    stop = args.stop_on_first_crash and bool(early_failures)
    results = []
    if todo and not stop:
        if args.dask:
            from .cohort._dask import dask_client

            slurm = {
                "queue": args.slurm_queue, "account": args.slurm_account,
                "cores": args.slurm_cores, "memory": args.slurm_memory,
                "walltime": args.slurm_walltime, "job_extra": args.slurm_extra,
                "scheduler_host": args.slurm_scheduler_host,
            }
            with dask_client(args.dask, args.n_jobs, slurm) as client:
                results = execute(todo, maskers_by_grid, settings, client=client,
                                  stop_on_first_crash=args.stop_on_first_crash, on_result=on_result)
        else:
            results = execute(todo, maskers_by_grid, settings, n_jobs=args.n_jobs,
                              stop_on_first_crash=args.stop_on_first_crash, on_result=on_result)
    if progress is not None:
        progress.close()
    extract_seconds = time.perf_counter() - extract_start

    failures = early_failures + [r for r in results if r["status"] == "failed"]
    done = sum(r["status"] == "done" for r in results)
    _write_failures(output_dir, failures, write_text)
    total = time.perf_counter() - started
    rate = done / extract_seconds * 60 if done and extract_seconds > 0 else 0.0
    print(
        f"{len(runs)} run(s): {done} extracted, {skipped} skipped (up to date), "
        f"{len(failures)} failed, {len(runs) - done - skipped - len(failures)} not started; "
        f"fit {fit_seconds:.2f} s, extraction {extract_seconds:.2f} s "
        f"({rate:.1f} runs/min), total {total:.2f} s",
        file=out,
    )
    if failures:
        print(f"failures listed in {output_dir / 'failures.tsv'}", file=out)
        return 1
    if len(runs) - done - skipped:
        return 1
    return 0


def _write_failures(output_dir: Path, failures: list[dict], write_text) -> None:
    """failures.tsv and one traceback file per failed run (stale ones removed)."""
    logs = output_dir / "logs"
    failures_tsv = output_dir / "failures.tsv"
    if logs.is_dir():
        for old in logs.glob("*_traceback.txt"):
            old.unlink()
    if not failures:
        failures_tsv.unlink(missing_ok=True)
        return
    lines = ["run\terror\tmessage\ttraceback"]
    for failure in sorted(failures, key=lambda f: f["run"]):
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", failure["run"].replace("/", "__"))
        tb_path = logs / f"{name}_traceback.txt"
        write_text(tb_path, failure.get("traceback", ""))
        message = failure["message"].replace("\t", " ")
        lines.append(f"{failure['run']}\t{failure['error']}\t{message}\t"
                     f"{tb_path.relative_to(output_dir).as_posix()}")
    write_text(failures_tsv, "\n".join(lines) + "\n")
