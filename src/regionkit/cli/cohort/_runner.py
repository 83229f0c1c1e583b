"""Extract one run (in any process), and run many serially, with joblib or Dask.

:func:`process_run` is a plain function of picklable arguments: a
:class:`RunJob`, the fitted maskers of the run's grid and the
:class:`Settings`. It never raises: a failure comes back as a result holding
the message and traceback, so one bad run never stops the others.
"""

from __future__ import annotations

import copy
import logging
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..._version import __version__
from ._index import Run
from ._outputs import file_record, write_json, write_table

logger = logging.getLogger(__name__)

__all__ = ["OutputSpec", "RunJob", "Settings", "execute", "process_run"]


@dataclass(frozen=True)
class OutputSpec:
    """One output of one run: where the table and its sidecar go."""

    target_key: str
    data: Path
    sidecar: Path
    params_hash: str
    identity: dict
    region_names: tuple | None


@dataclass
class RunJob:
    """Everything a worker needs to extract one run."""

    run: Run
    grid: str
    n_volumes: int
    t_r: float | None
    confounds_file: Path | None
    outputs: list[OutputSpec] = field(default_factory=list)


@dataclass
class Settings:
    """Command-wide settings shared by every run."""

    output_dir: Path
    fmt: str
    params: dict
    confounds: dict | None
    needs_t_r: bool
    min_coverage: float | None


def _source(run: Run, path: Path) -> str:
    try:
        return "bids:preprocessed:" + path.relative_to(run.root).as_posix()
    except ValueError:
        return path.as_posix()


def _column_names(masker, known: tuple | None, n_columns: int) -> list[str]:
    if known is not None and len(known) == n_columns:
        return list(known)
    getter = getattr(masker, "get_feature_names_out", None)
    if getter is not None:
        try:
            names = [str(n) for n in getter()]
            if len(names) == n_columns:
                return names
        except Exception:  # names are a nicety
            pass
    return [f"region{i + 1:03d}" for i in range(n_columns)]


def _transform(maskers: list, bold: str, confounds, sample_mask) -> list[np.ndarray]:
    from ... import maskers as maskers_module

    transform_many = getattr(maskers_module, "transform_many", None)
    if transform_many is not None:
        outputs = transform_many(maskers, bold, confounds=confounds, sample_mask=sample_mask)
    else:  # one decode per masker until transform_many exists
        outputs = [m.transform(bold, confounds=confounds, sample_mask=sample_mask) for m in maskers]
    return [np.asarray(o) for o in outputs]


def _load_confounds(job: RunJob, settings: Settings):
    from ...confounds import find_confounds_file, load_confounds_file

    path = job.confounds_file or find_confounds_file(job.run.bold)
    spec = dict(settings.confounds)
    confounds, sample_mask = load_confounds_file(path, **spec)
    if confounds is not None and len(confounds) != job.n_volumes:
        raise ValueError(
            f"Confounds file {path.name!r} has {len(confounds)} rows but run "
            f"{job.run.bold.name!r} has {job.n_volumes} volumes."
        )
    if sample_mask is not None and len(sample_mask) == 0:
        raise ValueError(f"Every volume of {job.run.bold.name!r} is censored by the confounds strategy.")
    return path, confounds, sample_mask


def process_run(job: RunJob, maskers: dict, settings: Settings) -> dict:
    """Extract every output of one run; return a result record (never raises)."""
    start = time.perf_counter()
    try:
        if settings.needs_t_r and job.t_r is None:
            raise ValueError(
                f"Run {job.run.bold.name!r} has no RepetitionTime in its JSON sidecar; "
                "filtering needs it: pass --t-r."
            )
        confounds_path = confounds = sample_mask = None
        if settings.confounds is not None:
            confounds_path, confounds, sample_mask = _load_confounds(job, settings)
        if isinstance(maskers, BaseException):
            raise maskers
        run_maskers = []
        for output in job.outputs:
            masker = copy.copy(maskers[output.target_key])
            if job.t_r is not None:
                masker.set_params(t_r=job.t_r)
            run_maskers.append(masker)
        all_signals = _transform(
            run_maskers,
            str(job.run.bold),
            None if confounds is None else confounds.to_numpy(dtype=np.float32),
            sample_mask,
        )
        inputs = {job.run.relpath: file_record(job.run.bold)}
        sources = [_source(job.run, job.run.bold)]
        if confounds_path is not None:
            rel = _source(job.run, confounds_path).removeprefix("bids:preprocessed:")
            inputs[rel] = file_record(confounds_path)
            sources.append(_source(job.run, confounds_path))
        sidecars = []
        for output, masker, signals in zip(job.outputs, run_maskers, all_signals, strict=True):
            signals = np.array(signals, dtype=np.float64).reshape(len(signals), -1)
            columns = _column_names(masker, output.region_names, signals.shape[1])
            coverage = getattr(masker, "region_coverage_", None)
            sidecar = {
                "SamplingFrequency": None if job.t_r is None else 1.0 / job.t_r,
                "Sources": sources,
                "Atlas": output.identity,
                "Columns": columns,
                "NumberOfVolumes": job.n_volumes,
                "Software": {"Name": "regionkit", "Version": __version__},
                "Parameters": settings.params,
                "ParametersHash": output.params_hash,
                "Inputs": inputs,
            }
            if coverage is not None:
                coverage = np.asarray(coverage, dtype=float).ravel()
                if coverage.size == len(columns):
                    sidecar["RegionCoverage"] = {
                        name: round(float(c), 6) for name, c in zip(columns, coverage, strict=True)
                    }
                    if settings.min_coverage is not None:
                        low = coverage < settings.min_coverage
                        signals[:, low] = np.nan
                        sidecar["RegionsBelowMinCoverage"] = [
                            c for c, is_low in zip(columns, low, strict=True) if is_low
                        ]
            if confounds is not None:
                sidecar["ConfoundsColumns"] = list(confounds.columns)
            if sample_mask is not None:
                sidecar["VolumesKept"] = [int(i) for i in sample_mask]
            write_table(output.data, signals, columns, settings.fmt)
            sidecars.append((output.sidecar, sidecar))
        for path, payload in sidecars:  # sidecars last: their presence marks completion
            write_json(path, payload)
        return {"run": job.run.relpath, "status": "done", "seconds": time.perf_counter() - start}
    except Exception as error:  # reported in failures.tsv
        return {
            "run": job.run.relpath,
            "status": "failed",
            "error": type(error).__name__,
            "message": " ".join(str(error).split()) or type(error).__name__,
            "traceback": traceback.format_exc(),
            "seconds": time.perf_counter() - start,
        }


# --------------------------------------------------------------------------
# backends
# --------------------------------------------------------------------------
def _serial(jobs, maskers_by_grid, settings):
    for job in jobs:
        yield process_run(job, maskers_by_grid[job.grid], settings)


def _joblib(jobs, maskers_by_grid, settings, n_jobs):
    from joblib import Parallel, delayed

    try:  # results as they finish (joblib >= 1.4); in submission order before
        parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator_unordered")
    except ValueError:  # pragma: no cover - old joblib
        parallel = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")
    yield from parallel(
        delayed(process_run)(job, maskers_by_grid[job.grid], settings) for job in jobs
    )


def _dask(jobs, maskers_by_grid, settings, client):
    from distributed import as_completed

    shipped = {
        grid: client.scatter(maskers, broadcast=True) if not isinstance(maskers, BaseException) else maskers
        for grid, maskers in maskers_by_grid.items()
    }
    futures = [
        client.submit(process_run, job, shipped[job.grid], settings, pure=False,
                      key=f"regionkit-run-{i}-{job.run.bold.name}")
        for i, job in enumerate(jobs)
    ]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def execute(
    jobs: list[RunJob],
    maskers_by_grid: dict,
    settings: Settings,
    *,
    n_jobs: int = 1,
    client=None,
    stop_on_first_crash: bool = False,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Run every job; return their results in completion order.

    Parameters
    ----------
    jobs : list of RunJob
    maskers_by_grid : dict
        ``{grid: {target key: fitted masker}}`` (or the exception that
        prevented fitting, which then fails that grid's runs).
    settings : Settings
    n_jobs : int, default=1
        joblib worker processes (ignored when ``client`` is given).
    client : distributed.Client, optional
        Run on this Dask cluster; maskers are scattered once to every worker.
    stop_on_first_crash : bool, default=False
        Stop at the first failed run (the others are cancelled).
    on_result : callable, optional
        Called with each result as it arrives (progress bars).
    """
    if client is not None:
        stream: Iterable[dict] = _dask(jobs, maskers_by_grid, settings, client)
    elif n_jobs != 1 and len(jobs) > 1:
        stream = _joblib(jobs, maskers_by_grid, settings, n_jobs)
    else:
        stream = _serial(jobs, maskers_by_grid, settings)
    results = []
    try:
        for result in stream:
            results.append(result)
            if on_result is not None:
                on_result(result)
            if stop_on_first_crash and result["status"] == "failed":
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return results
