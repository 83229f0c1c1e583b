"""Sanitation of clean's inputs: confounds (arrays, frames, files), runs, masks."""

from __future__ import annotations

import numbers
import os

import numpy as np
import pandas as pd

from .._validation import InvalidParameterError
from ._common import _NA_STRINGS, AllVolumesRemovedError


def _read_confounds_file(path: str) -> tuple[np.ndarray, list]:
    """Read a TSV/CSV of confounds (optional one-line header)."""
    with open(path) as handle:
        first = ""
        for line in handle:
            if line.strip():
                first = line
                break
    if not first:
        raise ValueError(f"confounds file {path!r} is empty.")
    sep = next((s for s in ("\t", ",", ";") if s in first), r"\s+")
    table = pd.read_csv(
        path,
        sep=sep,
        header=None,
        dtype=str,
        keep_default_na=False,
        engine="python" if sep == r"\s+" else "c",
        skip_blank_lines=True,
    )

    def numeric(text: str) -> bool:
        text = text.strip()
        if text.lower() in _NA_STRINGS:
            return True
        try:
            float(text)
        except ValueError:
            return False
        return True

    header = not all(numeric(v) for v in table.iloc[0])
    if header:
        names = [str(v).strip() for v in table.iloc[0]]
        table = table.iloc[1:]
    else:
        names = list(range(table.shape[1]))
    columns = []
    for position, name in enumerate(names):
        raw = table.iloc[:, position].str.strip()
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isnan(values) & ~raw.str.lower().isin(_NA_STRINGS).to_numpy()
        if bad.any():
            first_bad = raw.to_numpy()[np.flatnonzero(bad)[0]]
            raise ValueError(
                f"confounds file {path!r}: column {name!r} is not numeric "
                f"(value {first_bad!r} in {int(bad.sum())} row(s)); pass numeric "
                "columns only."
            )
        columns.append(values)
    return np.column_stack(columns) if columns else np.empty((len(table), 0)), names


def _confound_to_array(confound, where: str) -> tuple[np.ndarray, list]:
    """One confounds item as a float64 2D array plus column names."""
    if isinstance(confound, os.PathLike):
        confound = os.fspath(confound)
    if isinstance(confound, str):
        return _read_confounds_file(confound)
    if isinstance(confound, pd.Series):
        confound = confound.to_frame()
    if isinstance(confound, pd.DataFrame):
        names = list(confound.columns)
        columns = []
        for name in names:
            column = confound[name]
            if column.dtype.kind in "biuf":
                columns.append(column.to_numpy(dtype=np.float64))
                continue
            values = pd.to_numeric(column, errors="coerce")
            bad = values.isna() & column.notna()
            if bad.any():
                raise ValueError(
                    f"{where}: column {name!r} is not numeric (dtype "
                    f"{column.dtype}, e.g. value {column[bad].iloc[0]!r}); pass "
                    "numeric columns only."
                )
            columns.append(values.to_numpy(dtype=np.float64))
        array = np.column_stack(columns) if columns else np.empty((len(confound), 0))
        return array, names
    if isinstance(confound, np.ndarray):
        if confound.ndim == 1:
            confound = confound[:, None]
        elif confound.ndim != 2:
            raise ValueError(
                f"{where} must be 1D or 2D (n_timepoints, n_confounds), got an "
                f"array of shape {confound.shape}."
            )
        if confound.dtype.kind not in "biuf":
            try:
                confound = confound.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{where} holds non-numeric values (dtype {confound.dtype}): "
                    f"{exc}."
                ) from None
        return confound.astype(np.float64), list(range(confound.shape[1]))
    raise TypeError(
        f"{where} must be an ndarray, a pandas DataFrame, a path to a TSV/CSV "
        f"file, or a list of those; got {type(confound).__name__}."
    )


def _sanitize_confounds(confounds, n_time: int, run_rows: list | None):
    """Confounds as one float64 array per run (list), or None.

    A list whose items all have ``n_time`` rows is stacked column-wise (all
    confounds apply to all runs). With ``runs``, a list of one item per run,
    each with its run's number of rows, gives per-run confounds.
    """
    if confounds is None:
        return None
    if isinstance(confounds, (list, tuple)):
        items = list(confounds)
        if not items:
            raise ValueError("confounds is an empty list; pass None for no confounds.")
    else:
        items = [confounds]
    arrays = []
    for index, item in enumerate(items):
        where = "confounds" if len(items) == 1 else f"confounds[{index}]"
        array, names = _confound_to_array(item, where)
        arrays.append((where, array, names))
    run_lengths = [len(rows) for rows in run_rows] if run_rows is not None else None
    per_run = (
        run_lengths is not None
        and len(run_lengths) > 1
        and len(arrays) == len(run_lengths)
        and all(a.shape[0] == n for (_, a, _), n in zip(arrays, run_lengths))
        and not all(a.shape[0] == n_time for _, a, _ in arrays)
    )
    if not per_run:
        for where, array, _ in arrays:
            if array.shape[0] != n_time:
                extra = ""
                if run_lengths is not None and len(run_lengths) > 1:
                    extra = (
                        f" (or, as a list of one confounds item per run, "
                        f"{run_lengths} rows)"
                    )
                raise ValueError(
                    f"{where} has {array.shape[0]} rows but signals has {n_time} "
                    f"time points (rows){extra}: they must match."
                )
    for where, array, names in arrays:
        finite = np.isfinite(array)
        if not finite.all():
            bad_cols = np.flatnonzero(~finite.all(axis=0))
            label = [names[i] for i in bad_cols[:5]]
            raise ValueError(
                f"{where} holds {int((~finite).sum())} NaN/inf value(s) in "
                f"column(s) {label}; confounds must be finite (fill or drop "
                "them, e.g. the first row of fMRIPrep derivative columns)."
            )
    if per_run:
        return [array for _, array, _ in arrays]
    stacked = np.hstack([array for _, array, _ in arrays])
    if run_rows is None:
        return [stacked]
    return [stacked[rows] for rows in run_rows]


def _sanitize_runs(runs, n_time: int):
    """Row indices of each run, in sorted label order (None: one run)."""
    if runs is None:
        return None
    runs = np.asarray(runs)
    if runs.ndim != 1 or runs.shape[0] != n_time:
        raise ValueError(
            f"runs must be a 1D array with one label per time point ({n_time}), "
            f"got shape {runs.shape}."
        )
    return [np.flatnonzero(runs == label) for label in np.unique(runs)]


def _one_sample_mask(mask, n_rows: int, where: str) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 1:
        raise InvalidParameterError(
            f"{where} must be 1D (indices or booleans), got shape {mask.shape}."
        )
    if mask.dtype.kind == "b":
        if mask.shape[0] != n_rows:
            raise IndexError(
                f"{where} is a boolean mask of length {mask.shape[0]}, but the run "
                f"has {n_rows} time points: the lengths must match."
            )
        return np.flatnonzero(mask)
    if mask.size == 0:
        return np.zeros(0, dtype=np.intp)
    if mask.dtype.kind == "f":
        if not np.all(np.isfinite(mask)) or not np.all(mask == np.round(mask)):
            raise InvalidParameterError(
                f"{where} must hold integer indices or booleans, got non-integer "
                f"values such as {mask[mask != np.round(mask)][:3]}."
            )
    elif mask.dtype.kind not in "iu":
        raise InvalidParameterError(
            f"{where} must hold integer indices or booleans, got dtype {mask.dtype}."
        )
    mask = mask.astype(np.int64)
    if mask.min() < 0:
        raise InvalidParameterError(
            f"{where} holds negative indices {mask[mask < 0][:5]}; indices must be "
            f"in [0, {n_rows - 1}]."
        )
    if mask.shape[0] > n_rows:
        raise IndexError(
            f"{where} holds {mask.shape[0]} indices, more than the {n_rows} time "
            "points of the run."
        )
    if mask.max() >= n_rows:
        raise IndexError(
            f"{where} holds indices {mask[mask >= n_rows][:5]} out of range: the run "
            f"has {n_rows} time points (valid indices 0..{n_rows - 1})."
        )
    return mask.astype(np.intp)


def _sanitize_sample_mask(sample_mask, run_lengths: list[int], has_runs: bool):
    """One index array per run (volumes kept), or None."""
    if sample_mask is None:
        return None
    if isinstance(sample_mask, (list, tuple)) and not (
        len(sample_mask) > 0
        and all(isinstance(v, (numbers.Integral, np.bool_)) for v in sample_mask)
        and not has_runs
    ):
        masks = list(sample_mask)
    elif isinstance(sample_mask, (np.ndarray, list, tuple)):
        masks = [sample_mask]
    else:
        raise InvalidParameterError(
            "sample_mask must be an array of indices or booleans, or a list of "
            f"them (one per run); got {type(sample_mask).__name__}."
        )
    if len(masks) != len(run_lengths):
        raise ValueError(
            f"sample_mask holds {len(masks)} mask(s) but there are "
            f"{len(run_lengths)} run(s): pass one mask per run."
        )
    checked = []
    for index, (mask, n_rows) in enumerate(zip(masks, run_lengths)):
        where = "sample_mask" if len(masks) == 1 else f"sample_mask[{index}]"
        kept = _one_sample_mask(mask, n_rows, where)
        if kept.size == 0:
            raise AllVolumesRemovedError(
                f"{where} keeps no volume: every volume of the run was removed."
            )
        checked.append(kept)
    return checked
