"""Label-atlas operators: which voxels each label reads, and how it is summarised.

Everything here works on label arrays already on the extraction grid; nothing
reads the functional data. Voxel indices are flat Fortran-order indices, the
layout of :func:`regionkit.image.stream.iter_blocks` blocks.

Strategies follow ``scipy.ndimage`` as nilearn 0.14.1 uses it: ``mean``,
``sum``, ``variance`` and ``standard_deviation`` accumulate in float64
(population variance, ``ddof=0``), ``minimum``/``maximum`` are exact, and
``median`` averages the two middle values of an even-sized region.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._warnings import RegionkitWarning
from ._extract import NONFINITE_ALWAYS, Aggregation, ExtractionPlan
from ._operators import mean_operator

__all__ = [
    "STRATEGIES",
    "LabelReducer",
    "check_label_values",
    "build_lut",
    "label_plan",
]

STRATEGIES = (
    "mean",
    "median",
    "sum",
    "minimum",
    "maximum",
    "standard_deviation",
    "variance",
)


def check_label_values(data: np.ndarray, name: str = "labels_img") -> np.ndarray:
    """Validate a label array and return it with non-finite values set to 0.

    Parameters
    ----------
    data : ndarray
        Raw voxel values of the label image (any numeric dtype).
    name : str
        Argument name for error messages.

    Returns
    -------
    ndarray
        Same dtype; NaN/inf replaced by 0 (nilearn treats them as background).

    Raises
    ------
    ValueError
        Some finite value is not a whole number.
    TypeError
        The image is not numeric.
    """
    if data.dtype.kind == "b":
        return data.astype(np.uint8)
    if data.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold numeric labels, got voxel dtype {data.dtype}"
        )
    if data.dtype.kind != "f":
        return data
    data = np.where(np.isfinite(data), data, 0)
    fractional = data != np.round(data)
    if fractional.any():
        example = data[fractional].flat[0]
        raise ValueError(
            f"{name} must hold whole-number labels (a float image holding whole "
            f"numbers is fine), got {int(fractional.sum())} voxel(s) with "
            f"non-integer values such as {float(example)!r}. Round the image, or use "
            "NiftiMapsMasker for probabilistic maps."
        )
    return data


def _read_lut(lut) -> pd.DataFrame:
    if isinstance(lut, (str, Path)):
        path = Path(lut)
        if not path.is_file():
            raise ValueError(f"lut file {str(lut)!r} does not exist")
        table = pd.read_table(path, sep=None, engine="python")
    elif isinstance(lut, pd.DataFrame):
        table = lut.copy()
    else:
        raise TypeError(
            "lut must be a pandas DataFrame or a path to a TSV/CSV file with "
            f"'index' and 'name' columns, got {type(lut).__name__}"
        )
    missing = [c for c in ("index", "name") if c not in table.columns]
    if missing:
        raise ValueError(
            f"lut must have 'index' and 'name' columns; missing {missing} "
            f"(columns: {list(table.columns)})"
        )
    return table


def build_lut(present, background_label, labels=None, lut=None) -> pd.DataFrame:
    """Look-up table (``index``, ``name``, ...) of the labels in an image.

    Mirrors nilearn 0.14.1: the background row (when the background value is
    in the image) comes first and is named ``"Background"``; rows of ``lut``
    missing from the image are dropped; image values missing from ``lut`` get
    the name ``"unknown"``; the table is sorted by ``index``.

    Parameters
    ----------
    present : list of numbers
        Sorted distinct finite values of the label image (background included).
    background_label : number
    labels : list of str, optional
        Names of the values in ``present`` in order (background excluded or
        included); extra names are dropped, missing ones are ``"unknown"``.
    lut : DataFrame or path, optional

    Returns
    -------
    pandas.DataFrame
    """
    present = list(present)
    has_background = background_label in present
    if lut is not None:
        table = _read_lut(lut)
    else:
        if labels:
            names = ["Background" if n == "background" else n for n in labels]
            if has_background and "Background" not in names:
                names.insert(present.index(background_label), "Background")
        else:
            names = [
                "Background" if has_background and v == background_label else str(v)
                for v in present
            ]
        if len(names) < len(present):
            warnings.warn(
                f"labels holds {len(names)} names for {len(present)} label values "
                "(background included); the last values are named 'unknown'.",
                RegionkitWarning,
                stacklevel=4,
            )
            names = names + ["unknown"] * (len(present) - len(names))
        elif len(names) > len(present):
            warnings.warn(
                f"labels holds {len(names)} names for {len(present)} label values "
                "(background included); the extra names are dropped.",
                RegionkitWarning,
                stacklevel=4,
            )
            names = names[: len(present)]
        table = pd.DataFrame({"index": present, "name": names})

    is_background = table["index"] == background_label
    if is_background.any():
        table = pd.concat([table[is_background], table[~is_background]], ignore_index=True)
        table.loc[0, "name"] = "Background"
    else:
        defaults = {"name": "Background", "index": background_label, "color": "FFFFFF"}
        first = {column: defaults.get(column, np.nan) for column in table.columns}
        table = pd.concat([pd.DataFrame([first]), table], ignore_index=True)
    table = table[table["index"].isin(present)]
    missing = sorted(set(present) - set(table["index"].tolist()))
    if missing:
        table = pd.concat(
            [table, pd.DataFrame({"name": ["unknown"] * len(missing), "index": missing})],
            ignore_index=True,
        )
    return table.sort_values("index").reset_index(drop=True)


class LabelReducer:
    """Per-chunk reduction of label regions for every strategy but the mean.

    Parameters
    ----------
    order : ndarray of int64, shape (n_selected_voxels,)
        Positions in the gathered union, grouped region by region.
    counts : ndarray of int64, shape (n_regions,)
        Voxels of each region (in ``order``'s grouping); 0 for empty regions,
        whose column is NaN.
    strategy : str
        One of :data:`STRATEGIES` other than ``"mean"``.
    """

    def __init__(self, order: np.ndarray, counts: np.ndarray, strategy: str):
        self.order = np.asarray(order, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.strategy = strategy
        bounds = np.r_[0, np.cumsum(self.counts)]
        self.non_empty = np.flatnonzero(self.counts > 0)
        self.starts = bounds[:-1][self.non_empty]
        self.stops = bounds[1:][self.non_empty]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        n_volumes = values.shape[0]
        out = np.full((n_volumes, len(self.counts)), np.nan)
        if not self.non_empty.size:
            return out
        grouped = values[:, self.order]
        sizes = self.counts[self.non_empty]
        strategy = self.strategy
        if strategy == "sum":
            result = np.add.reduceat(grouped.astype(np.float64), self.starts, axis=1)
        elif strategy == "minimum":
            result = np.minimum.reduceat(grouped, self.starts, axis=1)
        elif strategy == "maximum":
            result = np.maximum.reduceat(grouped, self.starts, axis=1)
        elif strategy in ("variance", "standard_deviation"):
            grouped = grouped.astype(np.float64)
            means = np.add.reduceat(grouped, self.starts, axis=1) / sizes
            centred = grouped - np.repeat(means, sizes, axis=1)
            result = np.add.reduceat(centred * centred, self.starts, axis=1) / sizes
            if strategy == "standard_deviation":
                result = np.sqrt(result)
        elif strategy == "median":
            result = np.empty((n_volumes, len(self.starts)))
            for column, (start, stop) in enumerate(zip(self.starts, self.stops)):
                result[:, column] = np.median(grouped[:, start:stop], axis=1)
        else:  # pragma: no cover - validated by the masker
            raise ValueError(f"unknown strategy {strategy!r}")
        out[:, self.non_empty] = result
        return out


def label_plan(
    labels: np.ndarray,
    mask: np.ndarray | None,
    region_ids: list,
    background_label,
    strategy: str,
    affine: np.ndarray,
) -> ExtractionPlan:
    """Build the extraction plan of a label atlas on its grid.

    Parameters
    ----------
    labels : ndarray of shape (X, Y, Z)
        Label values on the extraction grid (whole numbers).
    mask : ndarray of bool of shape (X, Y, Z) or None
        Voxels allowed.
    region_ids : list of numbers
        Label value of each output column, in column order.
    background_label : number
    strategy : str
        One of :data:`STRATEGIES`.
    affine : ndarray of shape (4, 4)

    Returns
    -------
    ExtractionPlan
        ``union`` holds every voxel of a listed label inside the mask (sorted
        Fortran-flat); regions with no voxel are listed in ``empty_regions``.
    """
    shape = tuple(int(s) for s in labels.shape[:3])
    flat_labels = labels.ravel(order="F")
    selected = flat_labels != background_label
    if mask is not None:
        selected &= mask.ravel(order="F")
    voxels = np.flatnonzero(selected)
    values = flat_labels[voxels]
    ids = np.asarray(region_ids, dtype=np.float64)
    sorter = np.argsort(ids, kind="stable")
    if ids.size:
        where = np.searchsorted(ids, values, sorter=sorter).clip(0, ids.size - 1)
        found = ids[sorter[where]] == values
    else:
        where = np.zeros(values.shape, dtype=np.int64)
        found = np.zeros(values.shape, dtype=bool)
    union = voxels[found].astype(np.int64)
    region_of = sorter[where[found]] if ids.size else np.empty(0, dtype=np.int64)
    counts = np.bincount(region_of, minlength=len(ids)).astype(np.int64)
    order = np.argsort(region_of, kind="stable").astype(np.int64)
    positions = np.split(order, np.cumsum(counts)[:-1]) if len(ids) else []
    if strategy == "mean":
        aggregation = Aggregation("mean", "linear")
        operator = mean_operator(positions, len(union))
    else:
        aggregation = Aggregation(strategy, "block", LabelReducer(order, counts, strategy))
        operator = None
    return ExtractionPlan(
        shape=shape,
        affine=np.asarray(affine, dtype=np.float64),
        union=union,
        positions=positions,
        aggregations=[aggregation],
        nonfinite=NONFINITE_ALWAYS,
        operator=operator,
        empty_regions=np.flatnonzero(counts == 0),
    )
