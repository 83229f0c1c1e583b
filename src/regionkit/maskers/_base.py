"""Thin base estimator shared by the Nifti maskers.

It holds the plumbing every masker needs, so a concrete masker only says which
voxels each region reads (an :class:`~regionkit.maskers._extract.ExtractionPlan`)
and how to map region signals back to voxels:

``fit``
    validates the parameters (declared as data in ``_parameter_constraints``),
    merges ``clean_args`` with ``clean__*`` keyword arguments, loads the mask,
    then calls the subclass hook ``_fit_regions(imgs)`` which sets
    ``n_elements_``, ``region_coverage_`` and, when the grid is known,
    ``extraction_plan_``.
``transform``
    reads the image header (no voxel data), validates confounds and
    ``sample_mask`` against the number of volumes, asks ``_plan_for_grid`` for
    the plan on that grid, streams the image once (:func:`extract_signals`;
    chunk by chunk resampled onto the plan's grid when the plan lives on the
    regions' or the mask's grid),
    then cleans the small (n_timepoints, n_regions) result.

Subclass hooks: ``_fit_regions``, ``_plan_for_grid``, ``_region_names``,
``_check_empty_regions`` and ``_inverse_voxel_signals``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._fit_record import records_fit
from .._validation import Interval, Options, check_parameter, predicate, validate_params
from .._warnings import NonFiniteDataWarning
from ..image import check_niimg, high_variance_confounds
from ..signal import clean
from ._extract import ExtractionPlan, extract_signals, warn_nonfinite
from ._grid import extract_on_target_grid

logger = logging.getLogger(__name__)

__all__ = ["BaseMasker", "load_confounds_for_clean", "check_sample_mask"]


@predicate("a numpy dtype (not bool) or 'auto'")
def _is_dtype(value: Any) -> bool:
    if isinstance(value, str) and value == "auto":
        return True
    try:
        dtype = np.dtype(value)
    except TypeError:
        return False
    return dtype != np.dtype(bool)


@predicate("a joblib.Memory, a str or a pathlib.Path")
def _is_memory(value: Any) -> bool:
    return isinstance(value, (str, Path)) or (
        hasattr(value, "cache") and hasattr(value, "location")
    )


@predicate("a Niimg-like object (path or nibabel image)")
def _is_niimg_like(value: Any) -> bool:
    return isinstance(value, (str, Path)) or hasattr(value, "affine")


_POSITIVE = Interval("real", 0, None, closed="neither")

BASE_PARAMETER_CONSTRAINTS: dict[str, list] = {
    "smoothing_fwhm": [None, Interval("real", 0, None, closed="left"), "array-like"],
    "standardize": [Options(["zscore_sample", "psc", True, False]), None],
    "standardize_confounds": ["boolean"],
    "high_variance_confounds": ["boolean"],
    "detrend": ["boolean"],
    "low_pass": [None, _POSITIVE],
    "high_pass": [None, _POSITIVE],
    "t_r": [None, _POSITIVE],
    "dtype": [None, _is_dtype],
    "memory": [None, _is_memory],
    "memory_level": [Interval("int", 0, None)],
    "verbose": [Interval("int", 0, None), "boolean"],
    "reports": ["boolean"],
    "clean_args": [None, "dict"],
}


@dataclass
class _TransformContext:
    """What ``transform`` prepared before any voxel is decoded."""

    img: Any
    n_volumes: int
    input_ndim: int
    source_dtype: np.dtype
    confounds: np.ndarray | None
    sample_mask: np.ndarray | None
    plan: ExtractionPlan


def _check_niimg(img, name="imgs"):
    """Image from path / nibabel image / list of 3D images; header only."""
    return check_niimg(img, name=name)


def _header_dtype(img) -> np.dtype:
    dtype = img.get_data_dtype()
    header = getattr(img, "header", None)
    if header is not None and hasattr(header, "get_slope_inter"):
        slope, inter = header.get_slope_inter()
        if (slope is not None and slope != 1) or (inter is not None and inter != 0):
            return np.dtype(np.float64)
    return np.dtype(dtype)


def _read_table(path: Path) -> np.ndarray:
    """Read a TSV/CSV confounds file into a float array, header detected."""
    sep = "\t" if path.suffix.lower() == ".tsv" else None
    with path.open() as handle:
        first = handle.readline()
    if sep is None:
        sep = "\t" if "\t" in first else ("," if "," in first else r"\s+")
    try:
        [float(v) for v in first.strip().split(sep if sep != r"\s+" else None)]
        header = None
    except ValueError:
        header = 0
    table = pd.read_csv(path, sep=sep, header=header, engine="python")
    return _frame_to_array(table, f"confounds file {str(path)!r}")


def _frame_to_array(frame, what: str) -> np.ndarray:
    if hasattr(frame, "to_pandas") and not isinstance(frame, pd.DataFrame):
        frame = frame.to_pandas()
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    for column in frame.columns:
        if not (
            pd.api.types.is_numeric_dtype(frame[column])
            and not pd.api.types.is_bool_dtype(frame[column])
        ):
            raise ValueError(
                f"{what} has a non-numeric column {str(column)!r} "
                f"(dtype {frame[column].dtype}); every confound column must be numeric."
            )
    return frame.to_numpy(dtype=np.float64)


def load_confounds_for_clean(confounds, n_volumes: int) -> np.ndarray | None:
    """Validate confounds against the image and return them as one float array.

    Parameters
    ----------
    confounds : None, path, ndarray, DataFrame or list of those
        As accepted by nilearn's maskers; a list is stacked column-wise.
    n_volumes : int
        Volumes in the image (from its header).

    Returns
    -------
    ndarray of shape (n_volumes, n_confounds) or None

    Raises
    ------
    ValueError
        Wrong row count, non-numeric column, unreadable file.
    TypeError
        Unsupported type.
    """
    if confounds is None:
        return None
    items = confounds if isinstance(confounds, list) else [confounds]
    arrays = []
    for position, item in enumerate(items):
        what = "confounds" if len(items) == 1 else f"confounds[{position}]"
        if isinstance(item, (str, Path)):
            path = Path(item)
            if not path.is_file():
                raise ValueError(f"{what} file {str(item)!r} does not exist")
            array = _read_table(path)
        elif isinstance(item, pd.DataFrame | pd.Series) or hasattr(item, "to_pandas"):
            array = _frame_to_array(item, what)
        elif isinstance(item, np.ndarray) or hasattr(item, "__array__") or isinstance(item, (list, tuple)):
            array = np.asarray(item)
            if array.dtype.kind not in "biuf":
                raise ValueError(
                    f"{what} must hold numbers, got an array of dtype {array.dtype}"
                )
            array = array.astype(np.float64)
        else:
            raise TypeError(
                f"{what} must be a path to a TSV/CSV file, an array or a DataFrame, "
                f"got {type(item).__name__}"
            )
        if array.ndim == 1:
            array = array[:, np.newaxis]
        if array.ndim != 2:
            raise ValueError(f"{what} must be 1D or 2D, got shape {array.shape}")
        if array.shape[0] != n_volumes:
            raise ValueError(
                f"{what} has {array.shape[0]} rows but the image has {n_volumes} "
                f"volumes; expected one row per volume."
            )
        arrays.append(array)
    return np.hstack(arrays)


def check_sample_mask(sample_mask, n_volumes: int) -> np.ndarray | None:
    """Validate ``sample_mask`` (boolean of length n_volumes or volume indices).

    Returns
    -------
    ndarray of int64 or None
        Sorted unique indices of the volumes kept.
    """
    if sample_mask is None:
        return None
    mask = np.asarray(sample_mask)
    if mask.ndim != 1:
        raise ValueError(
            f"sample_mask must be 1D (booleans or volume indices), got shape {mask.shape}"
        )
    if mask.dtype == bool:
        if mask.shape[0] != n_volumes:
            raise ValueError(
                f"sample_mask is a boolean mask of length {mask.shape[0]} but the "
                f"image has {n_volumes} volumes; expected length {n_volumes}."
            )
        return np.flatnonzero(mask)
    if mask.size and mask.dtype.kind not in "iu":
        raise ValueError(
            f"sample_mask must hold booleans or integer volume indices, got dtype {mask.dtype}"
        )
    mask = mask.astype(np.int64)
    bad = mask[(mask < 0) | (mask >= n_volumes)]
    if bad.size:
        raise ValueError(
            f"sample_mask holds volume index {int(bad[0])}, out of range for an image "
            f"with {n_volumes} volumes; expected indices in [0, {n_volumes - 1}]."
        )
    if mask.shape[0] > n_volumes:
        raise ValueError(
            f"sample_mask has {mask.shape[0]} entries for an image with {n_volumes} volumes"
        )
    return mask


def _clean(signals, confounds, sample_mask, params: dict, clean_kwargs: dict):
    return clean(
        signals,
        detrend=params["detrend"],
        standardize=params["standardize"],
        standardize_confounds=params["standardize_confounds"],
        t_r=params["t_r"],
        low_pass=params["low_pass"],
        high_pass=params["high_pass"],
        confounds=confounds,
        sample_mask=sample_mask,
        **clean_kwargs,
    )


class BaseMasker(TransformerMixin, BaseEstimator):
    """Shared plumbing of the Nifti maskers (not used directly).

    Subclasses define ``__init__`` with every parameter (keyword arguments
    beyond the signature are accepted only as ``clean__<name>``), extend
    ``_parameter_constraints`` and implement the hooks listed in the module
    docstring.
    """

    _parameter_constraints: dict[str, list] = BASE_PARAMETER_CONSTRAINTS

    # ------------------------------------------------------------------ params
    def _store_clean_kwargs(self, kwargs: dict) -> None:
        """Keep ``clean__*`` keyword arguments (called from ``__init__``)."""
        self._clean_kwargs = dict(kwargs)

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        params.update(getattr(self, "_clean_kwargs", {}))
        return params

    def set_params(self, **params):
        extra = {k: params.pop(k) for k in list(params) if k.startswith("clean__")}
        if extra:
            self._clean_kwargs = {**getattr(self, "_clean_kwargs", {}), **extra}
        return super().set_params(**params)

    def _validate_parameters(self) -> None:
        owner = type(self).__name__
        params = BaseEstimator.get_params(self, deep=False)
        validate_params(params, self._parameter_constraints, owner)
        for name in getattr(self, "_clean_kwargs", {}):
            if not name.startswith("clean__"):
                raise TypeError(
                    f"{owner} got an unexpected keyword argument {name!r}; extra "
                    "keyword arguments must be prefixed with 'clean__' (passed to "
                    "regionkit.signal.clean)."
                )
        if np.ndim(self.smoothing_fwhm) == 1:
            for value in np.ravel(self.smoothing_fwhm):
                check_parameter("smoothing_fwhm", value, [None, Interval("real", 0, None)], owner)

    def _merged_clean_args(self) -> dict:
        merged = dict(self.clean_args or {})
        for name, value in getattr(self, "_clean_kwargs", {}).items():
            merged[name[len("clean__") :]] = value
        return merged

    def _masker_params(self) -> dict:
        params = {
            name: getattr(self, name)
            for name in ("detrend", "standardize_confounds", "t_r", "low_pass", "high_pass")
        }
        # nilearn's booleans: True is the sample z-score, False no scaling.
        standardize = self.standardize
        if isinstance(standardize, (bool, np.bool_)):
            standardize = "zscore_sample" if standardize else None
        params["standardize"] = standardize
        return params

    # ------------------------------------------------------------------ report
    def generate_report(self, engine="matplotlib", title=None, **kwargs):
        """Build a self-contained HTML report of the fitted masker.

        Parameters
        ----------
        engine : {"matplotlib"}, default="matplotlib"
            Plotting engine for the figures.
        title : str or None, default=None
            Title shown at the top of the report; the class name when None.
        **kwargs
            Passed to the report builder, e.g. ``displayed_spheres`` (int,
            list of indices or "all"; default 10) for spheres maskers.

        Returns
        -------
        report : regionkit.reporting.HTMLReport
            Use ``str(report)``, ``report.save_as_html(path)`` or display it in
            a notebook. A report of an unfitted masker says so.
        """
        from ..reporting import make_report

        return make_report(self, title=title, engine=engine, **kwargs)

    # --------------------------------------------------------------------- fit
    @records_fit
    def fit(self, imgs=None, y=None):
        """Prepare the extraction: validate parameters, build region operators.

        Parameters
        ----------
        imgs : Niimg-like or None
            Optional image whose grid the regions are placed on. Only its header
            is read.
        y : None
            Ignored (scikit-learn compatibility).

        Returns
        -------
        self
        """
        del y
        self._validate_parameters()
        self.clean_args_ = self._merged_clean_args()
        img = None if imgs is None else _check_niimg(imgs, name="imgs")
        if img is not None and len(img.shape) not in (3, 4):
            raise ValueError(
                f"imgs must be a 3D or 4D image, got a {len(img.shape)}D image of shape {img.shape}"
            )
        self.mask_img_ = self._load_mask()
        self._fit_regions(img)
        logger.debug("%s: fit done (%d regions)", type(self).__name__, self.n_elements_)
        return self

    def _load_mask(self):
        """The mask as a 3D boolean image (nilearn's rules), or None."""
        if getattr(self, "mask_img", None) is None:
            return None
        mask_img = _check_niimg(self.mask_img, name="mask_img")
        data = np.asarray(mask_img.dataobj)
        if data.ndim == 4:
            data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0).astype(bool).all(axis=3)
        elif data.ndim != 3:
            raise ValueError(
                f"mask_img must be a 3D image, got a {data.ndim}D image of shape {data.shape}"
            )
        mask = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0).astype(bool)
        if not mask.any():
            raise ValueError(
                "The mask is invalid as it is empty: mask_img holds no non-zero voxel "
                f"(shape {mask.shape}); expected at least one voxel in the mask."
            )
        return nib.Nifti1Image(mask.astype(np.int8), mask_img.affine)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_elements_")

    # ------------------------------------------------------------ feature names
    @property
    def _n_features_out(self) -> int:
        return self.n_elements_ * len(self._aggregation_names())

    def _aggregation_names(self) -> list[str]:
        return ["mean"]

    def _region_names(self) -> list[str] | None:
        """Names of the regions when known (labels); None otherwise."""
        return None

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names.

        Single aggregation: the region names when known, else
        ``<classname><index>`` as nilearn. Several aggregations:
        ``region-<name>_stat-<agg>``, aggregation-major.

        Returns
        -------
        ndarray of str
        """
        del input_features
        check_is_fitted(self)
        names = self._region_names()
        aggregations = self._aggregation_names()
        if len(aggregations) == 1:
            if names is not None:
                return np.asarray([str(n) for n in names], dtype=object)
            prefix = type(self).__name__.lower()
            return np.asarray([f"{prefix}{i}" for i in range(self.n_elements_)], dtype=object)
        if names is None:
            names = [str(i) for i in range(self.n_elements_)]
        return np.asarray(
            [f"region-{n}_stat-{a}" for a in aggregations for n in names], dtype=object
        )

    # --------------------------------------------------------------- transform
    def _prepare_transform(self, imgs, confounds, sample_mask) -> _TransformContext:
        """All checks that need only headers; nothing is decoded."""
        check_is_fitted(self)
        img = _check_niimg(imgs, name="imgs")
        input_ndim = len(img.shape)
        if input_ndim not in (3, 4):
            raise ValueError(
                f"imgs must be a 3D or 4D image, got a {input_ndim}D image of shape {img.shape}"
            )
        n_volumes = img.shape[3] if input_ndim == 4 else 1
        confounds = load_confounds_for_clean(confounds, n_volumes)
        sample_mask = check_sample_mask(sample_mask, n_volumes)
        plan = self._plan_for_grid(img.shape[:3], img.affine)
        if self.high_variance_confounds:
            # reads the whole image (as nilearn does); done after every cheap check
            hv = np.asarray(high_variance_confounds(img), dtype=np.float64)
            confounds = hv if confounds is None else np.hstack([hv, confounds])
        return _TransformContext(
            img=img,
            n_volumes=n_volumes,
            input_ndim=input_ndim,
            source_dtype=_header_dtype(img),
            confounds=confounds,
            sample_mask=sample_mask,
            plan=plan,
        )

    def _extraction_dtype(self, source_dtype: np.dtype) -> np.dtype:
        if self.dtype is None:
            return source_dtype
        if isinstance(self.dtype, str) and self.dtype == "auto":
            return np.dtype(np.int32 if source_dtype.kind in "iu" else np.float32)
        return np.dtype(self.dtype)

    def _finish_transform(self, context: _TransformContext, outputs, report):
        """Post-process extracted signals: warnings, dtype, cleaning, shape."""
        warn_nonfinite(report, type(self).__name__)
        self._check_empty_regions(context.plan)
        signals = np.hstack(outputs) if len(outputs) > 1 else outputs[0]
        extraction_dtype = self._extraction_dtype(context.source_dtype)
        if extraction_dtype.kind in "iu":
            # nilearn stores region signals in the image's (integer) dtype,
            # which truncates the aggregated values.
            finite = np.isfinite(signals)
            signals = np.where(finite, np.trunc(np.where(finite, signals, 0)), signals)
        with warnings.catch_warnings():
            if report.n_voxels or context.plan.empty_regions.size:
                # already reported above, with the voxel count / empty seeds
                warnings.simplefilter("ignore", NonFiniteDataWarning)
            signals = _clean(
                signals,
                context.confounds,
                context.sample_mask,
                self._masker_params(),
                self.clean_args_,
            )
        signals = np.asarray(signals)
        if self.dtype is None and signals.dtype.kind == "f":
            # float64 images keep float64 (as nilearn); everything else float32
            keep64 = context.source_dtype == np.float64
            signals = signals.astype(np.float64 if keep64 else np.float32, copy=False)
        if self.dtype is not None:
            if isinstance(self.dtype, str) and self.dtype == "auto":
                target = np.int32 if context.source_dtype.kind == "i" else np.float32
            else:
                target = np.dtype(self.dtype)
            signals = signals.astype(target)
        output_config = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
        if context.input_ndim == 3 and output_config == "default":
            signals = signals[0] if signals.shape[0] == 1 else signals
        return signals

    def transform(self, imgs, confounds=None, sample_mask=None):
        """Extract region signals from a 3D or 4D image.

        Parameters
        ----------
        imgs : Niimg-like
            Path, nibabel image or list of 3D images (concatenated in time).
        confounds : path, ndarray, DataFrame or list of those, optional
            One row per volume; passed to :func:`regionkit.signal.clean`.
        sample_mask : ndarray, optional
            Volumes to keep (boolean of length n_volumes, or indices).

        Returns
        -------
        signals : ndarray of shape (n_timepoints, n_features) or (n_features,)
            1D for a 3D image (unless ``set_output`` asks for a DataFrame).
        """
        context = self._prepare_transform(imgs, confounds, sample_mask)
        img, plan = context.img, context.plan
        if plan.matches(img.shape[:3], img.affine):
            outputs, report = extract_signals(
                img, [plan], smoothing_fwhm=self.smoothing_fwhm
            )[0]
        else:
            # resampling_target points at the regions or the mask: each chunk
            # of the data is resampled onto the plan's grid
            outputs, report = extract_on_target_grid(
                img, [plan], plan.shape, plan.affine, smoothing_fwhm=self.smoothing_fwhm
            )[0]
        return self._finish_transform(context, outputs, report)

    def fit_transform(self, imgs, y=None, confounds=None, sample_mask=None):
        """Fit on ``imgs`` then transform it.

        Returns
        -------
        signals : ndarray of shape (n_timepoints, n_features) or (n_features,)
        """
        return self.fit(imgs, y).transform(imgs, confounds=confounds, sample_mask=sample_mask)

    # ------------------------------------------------------- inverse transform
    def inverse_transform(self, region_signals):
        """Map region signals back to voxels.

        Parameters
        ----------
        region_signals : ndarray of shape (n_regions,) or (n_timepoints, n_regions)
            Also accepts a pandas/polars DataFrame.

        Returns
        -------
        nibabel.Nifti1Image
            3D for 1D input, 4D for 2D input.
        """
        check_is_fitted(self)
        if hasattr(region_signals, "to_numpy"):
            region_signals = region_signals.to_numpy()
        signals = np.asarray(region_signals)
        if signals.ndim not in (1, 2):
            raise ValueError(
                f"region_signals must be 1D or 2D, got shape {signals.shape}"
            )
        if len(self._aggregation_names()) != 1:
            raise ValueError(
                "inverse_transform needs a single aggregation; this masker computes "
                f"{self._aggregation_names()}"
            )
        if signals.shape[-1] != self.n_elements_:
            raise ValueError(
                "Input to 'inverse_transform' has wrong shape: expected last dimension "
                f"{self.n_elements_} (one column per region), got shape {signals.shape}."
            )
        if signals.dtype == bool:
            signals = signals.astype(np.int32 if self.dtype is None else self.dtype)
        data_2d = np.atleast_2d(signals)
        voxels, affine = self._inverse_voxel_signals(data_2d)  # (X, Y, Z, n)
        target = signals.dtype if self.dtype is None else np.dtype(
            np.float32 if self.dtype == "auto" else self.dtype
        )
        if signals.ndim == 1:
            voxels = voxels[..., 0]
        img = nib.Nifti1Image(voxels.astype(target), affine)
        img.set_data_dtype(target)
        return img

    # ------------------------------------------------------------------- hooks
    def _fit_regions(self, img) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _plan_for_grid(self, shape, affine) -> ExtractionPlan:  # pragma: no cover
        raise NotImplementedError

    def _check_empty_regions(self, plan: ExtractionPlan) -> None:
        del plan

    def _inverse_voxel_signals(self, signals_2d):  # pragma: no cover - abstract
        raise NotImplementedError


def transform_many(maskers, img, confounds=None, sample_mask=None) -> list:
    """Transform one run with several fitted maskers, decoding it once.

    Parameters
    ----------
    maskers : list of fitted maskers
        Any regionkit maskers (spheres, labels, maps...), already fitted.
    img : Niimg-like
        The run (3D or 4D).
    confounds, sample_mask
        As for ``transform``; applied to every masker.

    Returns
    -------
    list
        One output per masker, equal to ``masker.transform(img, confounds,
        sample_mask)``.

    Notes
    -----
    Maskers sharing a ``smoothing_fwhm`` share one pass over the data; each
    distinct smoothing costs one more pass.
    """
    maskers = list(maskers)
    for position, masker in enumerate(maskers):
        if not isinstance(masker, BaseMasker):
            raise TypeError(
                f"maskers[{position}] must be a regionkit masker, got {type(masker).__name__}"
            )
    contexts = [m._prepare_transform(img, confounds, sample_mask) for m in maskers]
    loaded = contexts[0].img if contexts else None
    groups: dict[Any, list[int]] = {}
    for position, masker in enumerate(maskers):
        fwhm = masker.smoothing_fwhm
        key = None if fwhm is None else tuple(np.ravel(fwhm).tolist())
        groups.setdefault(key, []).append(position)
    results: list = [None] * len(maskers)
    for positions in groups.values():
        # plans on another grid than the data (labels/maps/mask resampling
        # targets) resample the data themselves: their own transform (one more decode)
        on_grid = [p for p in positions if contexts[p].plan.matches(loaded.shape, loaded.affine)]
        for p in set(positions) - set(on_grid):
            results[p] = maskers[p].transform(img, confounds=confounds, sample_mask=sample_mask)
        positions = on_grid
        if not positions:
            continue
        fwhm = maskers[positions[0]].smoothing_fwhm
        extracted = extract_signals(
            loaded, [contexts[p].plan for p in positions], smoothing_fwhm=fwhm
        )
        for p, (outputs, report) in zip(positions, extracted):
            # transform()'s output wrapping (set_output) is applied by sklearn's
            # wrapper; mirror it here.
            signals = maskers[p]._finish_transform(contexts[p], outputs, report)
            results[p] = _wrap_like_transform(maskers[p], signals)
    return results


def _wrap_like_transform(masker, signals):
    """Apply the container chosen with ``set_output`` (as ``transform`` does)."""
    config = getattr(masker, "_sklearn_output_config", {}).get("transform", "default")
    if config == "default":
        return signals
    columns = [str(c) for c in masker.get_feature_names_out()]
    signals = np.atleast_2d(signals)
    if config == "pandas":
        return pd.DataFrame(signals, columns=columns)
    if config == "polars":
        import polars as pl

        return pl.DataFrame(signals, schema=columns, orient="row")
    raise ValueError(f"unsupported output container {config!r}")

