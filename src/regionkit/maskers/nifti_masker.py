"""Voxel signals inside a brain mask: NiftiMasker and MultiNiftiMasker."""

from __future__ import annotations

import inspect
import logging
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
from joblib import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from .. import masking
from .._fit_record import records_fit
from .._validation import Interval, Options, predicate
from .._warnings import RegionkitWarning
from ..image import check_niimg
from ..image.stream import iter_blocks
from ._base import BASE_PARAMETER_CONSTRAINTS, BaseMasker, _is_niimg_like
from ._extract import (
    DEFAULT_CHUNK_SIZE,
    NONFINITE_ALWAYS,
    Aggregation,
    ExtractionPlan,
    NonFiniteReport,
    _smooth_block,
    voxel_box,
    warn_nonfinite,
)
from ._grid import _resample_block, data_range, same_grid

logger = logging.getLogger(__name__)

__all__ = ["NiftiMasker", "MultiNiftiMasker"]

MASK_STRATEGIES = ("background", "epi", "whole-brain-template", "gm-template", "wm-template")
_TEMPLATE_TYPES = {
    "whole-brain-template": "whole-brain",
    "gm-template": "gm",
    "wm-template": "wm",
}


@predicate("a (3, 3) or (4, 4) array")
def _is_affine(value) -> bool:
    return np.shape(value) in ((3, 3), (4, 4))


@predicate("a sequence of 3 positive ints")
def _is_shape(value) -> bool:
    return (
        np.ndim(value) == 1
        and len(value) == 3
        and all(isinstance(v, (int, np.integer)) and v > 0 for v in value)
    )


def _mask_function(strategy: str, multi: bool):
    """The regionkit.masking function behind a ``mask_strategy``."""
    if strategy == "background":
        return masking.compute_multi_background_mask if multi else masking.compute_background_mask
    if strategy == "epi":
        return masking.compute_multi_epi_mask if multi else masking.compute_epi_mask
    mask_type = _TEMPLATE_TYPES[strategy]
    base = masking.compute_multi_brain_mask if multi else masking.compute_brain_mask

    def compute(imgs, **kwargs):
        return base(imgs, mask_type=mask_type, **kwargs)

    compute.__signature__ = inspect.signature(base)
    return compute


def _identity(values: np.ndarray) -> np.ndarray:
    return values


class NiftiMasker(BaseMasker):
    """Extract the time series of every voxel inside a mask.

    Parameters
    ----------
    mask_img : Niimg-like, optional
        Binary mask. If None, it is computed at ``fit`` from the images with
        ``mask_strategy``.
    runs : ndarray of shape (n_volumes,), optional
        Run label of each volume; cleaning is done run by run.
    smoothing_fwhm, standardize, standardize_confounds, detrend, \
high_variance_confounds, low_pass, high_pass, t_r, dtype
        As nilearn 0.14.1 (passed to :func:`regionkit.signal.clean`).
    target_affine, target_shape : optional
        Resample the mask (nearest) onto this grid at fit; the data are then
        resampled (cubic spline) onto it, chunk by chunk, at transform.
    mask_strategy : str, default="background"
        "background", "epi", "whole-brain-template", "gm-template" or
        "wm-template": :mod:`regionkit.masking` function used when
        ``mask_img`` is None.
    mask_args : dict, optional
        Extra arguments for that function (unsupported ones are skipped with a
        warning, as nilearn).
    memory, memory_level, verbose, reports, cmap
        Accepted for nilearn compatibility.
    clean_args : dict, optional
        Extra keyword arguments for :func:`regionkit.signal.clean`.
    **kwargs
        ``clean__<name>=value`` keyword arguments for ``clean``.

    Attributes
    ----------
    mask_img_ : Nifti1Image
        The mask used (computed, or given and resampled).
    affine_ : ndarray of shape (4, 4)
        Affine of the extraction grid.
    n_elements_ : int
        Voxels in the mask.
    region_coverage_ : ndarray of shape (n_elements_,)
        All ones: every voxel of the mask is read.
    extraction_plan_ : ExtractionPlan
        Mask voxels in nilearn's (C) order; usable by
        :func:`~regionkit.maskers.transform_many` (which then holds the output
        in float64).

    Notes
    -----
    ``transform`` streams the run in chunks and copies the mask voxels of each
    chunk straight into the preallocated (n_volumes, n_voxels) output, so peak
    memory is the output plus one chunk.
    """

    _parameter_constraints = {
        **BASE_PARAMETER_CONSTRAINTS,
        "mask_img": [None, _is_niimg_like],
        "runs": [None, "array-like"],
        "target_affine": [None, _is_affine],
        "target_shape": [None, _is_shape],
        "mask_strategy": [Options(list(MASK_STRATEGIES))],
        "mask_args": [None, "dict"],
        "cmap": "no_validation",
    }
    _multi = False

    def __init__(
        self,
        mask_img=None,
        runs=None,
        smoothing_fwhm=None,
        standardize=False,
        standardize_confounds=True,
        detrend=False,
        high_variance_confounds=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        target_affine=None,
        target_shape=None,
        mask_strategy="background",
        mask_args=None,
        dtype=None,
        memory=None,
        memory_level=1,
        verbose=0,
        reports=True,
        cmap="gray",
        clean_args=None,
        **kwargs,
    ):
        self.mask_img = mask_img
        self.runs = runs
        self.smoothing_fwhm = smoothing_fwhm
        self.standardize = standardize
        self.standardize_confounds = standardize_confounds
        self.detrend = detrend
        self.high_variance_confounds = high_variance_confounds
        self.low_pass = low_pass
        self.high_pass = high_pass
        self.t_r = t_r
        self.target_affine = target_affine
        self.target_shape = target_shape
        self.mask_strategy = mask_strategy
        self.mask_args = mask_args
        self.dtype = dtype
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose
        self.reports = reports
        self.cmap = cmap
        self.clean_args = clean_args
        self._store_clean_kwargs(kwargs)

    # ------------------------------------------------------------------ fit
    def _load_mask(self):
        if self.mask_img is None:
            return None
        mask, affine = masking.load_mask_img(self.mask_img, name="mask_img")
        return nib.Nifti1Image(mask.astype(np.int8), affine)

    def _compute_mask(self, imgs):
        if imgs is None:
            raise ValueError(
                f"Parameter 'imgs' must be provided to {type(self).__name__}.fit() if "
                "no mask is passed to mask_img."
            )
        compute = _mask_function(self.mask_strategy, self._multi)
        accepted = inspect.signature(compute).parameters
        kwargs = {}
        if self._multi:
            kwargs = {
                name: getattr(self, name)
                for name in ("n_jobs", "target_shape", "target_affine")
                if name in accepted and getattr(self, name) is not None
            }
        skipped = []
        for name, value in (self.mask_args or {}).items():
            if name in accepted:
                kwargs[name] = value
            else:
                skipped.append(name)
        if skipped:
            warnings.warn(
                f"The following arguments are not supported by the masking strategy "
                f"{self.mask_strategy!r}: {skipped}",
                RegionkitWarning,
                stacklevel=4,
            )
        logger.info("%s: computing the mask (%s)", type(self).__name__, self.mask_strategy)
        return compute(imgs, **kwargs)

    def _fit_regions(self, img) -> None:
        mask_img = self.mask_img_ if self.mask_img_ is not None else self._compute_mask(img)
        self._finish_mask(mask_img)

    def _finish_mask(self, mask_img) -> None:
        if self.target_affine is not None or self.target_shape is not None:
            mask_img = masking_resample(mask_img, self.target_affine, self.target_shape)
        mask, affine = masking.load_mask_img(mask_img, name="mask_img")
        self.mask_img_ = nib.Nifti1Image(mask.astype(np.int8), affine)
        self.affine_ = (
            np.asarray(self.target_affine, dtype=np.float64)
            if self.target_affine is not None
            else np.asarray(affine, dtype=np.float64)
        )
        shape = mask.shape
        # nilearn's column order: C order over the mask (data[mask]); the
        # streamed blocks are Fortran-flat, so list those indices in C order
        ijk = np.nonzero(mask)
        voxels = np.ravel_multi_index(ijk, shape, order="F").astype(np.int64)
        self.n_elements_ = int(voxels.size)
        self.region_coverage_ = np.ones(self.n_elements_)
        self.extraction_plan_ = ExtractionPlan(
            shape=tuple(int(s) for s in shape),
            affine=np.asarray(affine, dtype=np.float64),
            union=voxels,
            positions=np.arange(voxels.size, dtype=np.int64)[:, np.newaxis],
            aggregations=[Aggregation("voxel", "block", _identity)],
            nonfinite=NONFINITE_ALWAYS,
        )
        clean_args = dict(self.clean_args_)
        if self.runs is not None:
            clean_args["runs"] = np.asarray(self.runs)
        self.clean_args_ = clean_args

    # ------------------------------------------------------------ transform
    def _plan_for_grid(self, shape, affine) -> ExtractionPlan:
        return self.extraction_plan_

    def _region_names(self):
        return None

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names: ``<classname><index>`` per mask voxel (nilearn)."""
        return super().get_feature_names_out(input_features)

    def _needs_cleaning(self, context) -> bool:
        params = self._masker_params()
        return bool(
            context.confounds is not None
            or params["detrend"]
            or params["standardize"] is not None
            or params["low_pass"] is not None
            or params["high_pass"] is not None
            or set(self.clean_args_) - {"runs"}
            or self.dtype is not None
            or context.source_dtype.kind not in "f"
        )

    def _finish_transform(self, context, outputs, report):
        """As the base masker's, without a full copy through ``clean`` when no
        cleaning is asked for (the output is n_volumes x n_voxels: a copy would
        double the peak memory)."""
        if self._needs_cleaning(context):
            return super()._finish_transform(context, outputs, report)
        warn_nonfinite(report, type(self).__name__)
        signals = outputs[0]
        if context.sample_mask is not None:
            signals = signals[context.sample_mask]
        if context.source_dtype == np.float64:
            signals = signals.astype(np.float64)
        output_config = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
        if context.input_ndim == 3 and output_config == "default" and signals.shape[0] == 1:
            signals = signals[0]
        return signals

    def transform(self, imgs, confounds=None, sample_mask=None):
        """Extract the mask voxels' time series.

        Parameters
        ----------
        imgs : Niimg-like
            3D or 4D image (path, nibabel image or list of 3D images).
        confounds : path, ndarray, DataFrame or list of those, optional
        sample_mask : ndarray, optional

        Returns
        -------
        signals : ndarray of shape (n_timepoints, n_voxels) or (n_voxels,)
        """
        context = self._prepare_transform(imgs, confounds, sample_mask)
        signals, report = _gather_mask(
            context.img, self.extraction_plan_, self.smoothing_fwhm, context.n_volumes
        )
        return self._finish_transform(context, [signals], report)

    def _inverse_voxel_signals(self, signals_2d):
        plan = self.extraction_plan_
        shape = plan.shape
        flat = np.zeros((signals_2d.shape[0], int(np.prod(shape))), dtype=signals_2d.dtype)
        flat[:, plan.union] = signals_2d
        volumes = flat.reshape(signals_2d.shape[0], shape[2], shape[1], shape[0]).transpose(
            3, 2, 1, 0
        )
        return volumes, plan.affine


def masking_resample(mask_img, target_affine, target_shape):
    """Resample a mask (nearest) as nilearn's maskers do for target_affine/shape."""
    from ..image import resample_img

    return resample_img(
        mask_img,
        target_affine=None if target_affine is None else np.asarray(target_affine),
        target_shape=None if target_shape is None else tuple(target_shape),
        interpolation="nearest",
        force_resample=True,
        copy_header=True,
    )


# The voxel-wise output dominates this masker's memory, so the decoded chunk in
# flight is kept to about 32 MiB (9 volumes on the MNI 2 mm grid) rather than the
# region maskers' 16 volumes: on a 300-volume 2 mm run the peak drops by ~70 MiB
# at no cost in speed (measured: 618 -> 550 MiB).
_VOXELWISE_BLOCK_BYTES = 32 * 2**20


def _voxelwise_chunk_size(shape: tuple[int, ...]) -> int:
    """Volumes per decoded chunk so that one chunk stays near 32 MiB of float32."""
    per_volume = 4 * int(np.prod(shape))
    return int(max(1, min(DEFAULT_CHUNK_SIZE, _VOXELWISE_BLOCK_BYTES // per_volume)))


def _gather_mask(img, plan: ExtractionPlan, smoothing_fwhm, n_volumes: int,
                 chunk_size: int | None = None):
    """Stream ``img`` and copy the mask voxels of each chunk into the output.

    Data on another grid than the mask are resampled (cubic spline) chunk by
    chunk first, then smoothed; non-finite values become 0 (nilearn's
    ``ensure_finite``) and are counted. ``chunk_size`` defaults to about 32 MiB
    of decoded volumes (:func:`_voxelwise_chunk_size`).
    """
    source_shape = tuple(int(s) for s in img.shape[:3])
    if chunk_size is None:
        chunk_size = _voxelwise_chunk_size(source_shape)
    resample = not same_grid(source_shape, img.affine, plan.shape, plan.affine)
    if resample:
        logger.info(
            "resampling the images %s onto the mask grid %s chunk by chunk",
            source_shape,
            plan.shape,
        )
    clip_range = data_range(img, chunk_size) if resample else None
    out = np.empty((n_volumes, plan.union.size), dtype=np.float32)
    nonfinite = np.zeros(plan.union.size, dtype=bool)
    n_source_nonfinite = 0
    box = voxel_box(plan.union, plan.shape) if smoothing_fwhm is not None else None
    for start, block in iter_blocks(img, chunk_size=chunk_size):
        stop = start + block.shape[0]
        if resample:
            finite = np.isfinite(block)
            if not finite.all():
                n_source_nonfinite += int((~finite.all(axis=0)).sum())
                block = np.where(finite, block, np.float32(0))
            block = _resample_block(
                block, source_shape, img.affine, plan.shape, plan.affine, clip_range=clip_range
            )
        if smoothing_fwhm is not None:
            bad = ~np.isfinite(block[:, plan.union])
            if bad.any():
                nonfinite |= bad.any(axis=0)
            block = _smooth_block(block, plan.shape, plan.affine, smoothing_fwhm, box)
        target = out[start:stop]
        np.take(block, plan.union, axis=1, out=target)
        bad = ~np.isfinite(target)
        if bad.any():
            nonfinite |= bad.any(axis=0)
            target[bad] = 0
    return out, NonFiniteReport(max(int(nonfinite.sum()), n_source_nonfinite), True)


def _is_single_image(imgs) -> bool:
    return isinstance(imgs, (str, Path)) or hasattr(imgs, "affine")


class MultiNiftiMasker(NiftiMasker):
    """:class:`NiftiMasker` for several runs or subjects at once.

    ``fit`` takes a list of 4D images (the mask is computed from all of them
    with the ``compute_multi_*`` functions); ``transform`` takes one image
    (returns an array) or a list (returns a list, computed with ``n_jobs``
    joblib workers), with ``confounds`` and ``sample_mask`` given as lists of
    one entry per image.

    Parameters
    ----------
    n_jobs : int, default=1
        Parallel workers for list inputs (and for the mask computation).
    mask_img, runs, smoothing_fwhm, standardize, standardize_confounds, \
detrend, high_variance_confounds, low_pass, high_pass, t_r, target_affine, \
target_shape, mask_strategy, mask_args, dtype, memory, memory_level, verbose, \
reports, cmap, clean_args, **kwargs
        As :class:`NiftiMasker`.
    """

    _parameter_constraints = {
        **NiftiMasker._parameter_constraints,
        "n_jobs": [Interval("int", None, None), None],
    }
    _multi = True

    def __init__(
        self,
        mask_img=None,
        runs=None,
        smoothing_fwhm=None,
        standardize=False,
        standardize_confounds=True,
        detrend=False,
        high_variance_confounds=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        target_affine=None,
        target_shape=None,
        mask_strategy="background",
        mask_args=None,
        dtype=None,
        memory=None,
        memory_level=0,
        n_jobs=1,
        verbose=0,
        reports=True,
        cmap="gray",
        clean_args=None,
        **kwargs,
    ):
        super().__init__(
            mask_img=mask_img,
            runs=runs,
            smoothing_fwhm=smoothing_fwhm,
            standardize=standardize,
            standardize_confounds=standardize_confounds,
            detrend=detrend,
            high_variance_confounds=high_variance_confounds,
            low_pass=low_pass,
            high_pass=high_pass,
            t_r=t_r,
            target_affine=target_affine,
            target_shape=target_shape,
            mask_strategy=mask_strategy,
            mask_args=mask_args,
            dtype=dtype,
            memory=memory,
            memory_level=memory_level,
            verbose=verbose,
            reports=reports,
            cmap=cmap,
            clean_args=clean_args,
            **kwargs,
        )
        self.n_jobs = n_jobs

    @records_fit
    def fit(self, imgs=None, y=None):
        """Compute (or load) the mask from one image or a list of images.

        Returns
        -------
        self
        """
        del y
        self._validate_parameters()
        self.clean_args_ = self._merged_clean_args()
        self.mask_img_ = self._load_mask()
        if self.mask_img_ is None:
            if imgs is None:
                self._compute_mask(None)
            images = [imgs] if _is_single_image(imgs) else list(imgs)
            images = [check_niimg(i, name=f"imgs[{n}]") for n, i in enumerate(images)]
            mask_img = self._compute_mask(images)
        else:
            mask_img = self.mask_img_
        self._finish_mask(mask_img)
        return self

    def transform(self, imgs, confounds=None, sample_mask=None):
        """Extract voxel signals from one image or a list of images.

        Parameters
        ----------
        imgs : Niimg-like or list of Niimg-like
        confounds : list, optional
            One confounds entry per image (None, path, array, DataFrame).
        sample_mask : list, optional
            One sample mask per image.

        Returns
        -------
        ndarray or list of ndarray
        """
        check_is_fitted(self)
        for name, value in (("confounds", confounds), ("sample_mask", sample_mask)):
            if value is not None and not isinstance(value, list):
                raise TypeError(f"'{name}' must be None or a list, got {type(value).__name__}.")
        if _is_single_image(imgs):
            return NiftiMasker.transform(
                self,
                imgs,
                confounds=confounds[0] if isinstance(confounds, list) else confounds,
                sample_mask=sample_mask[0] if isinstance(sample_mask, list) else sample_mask,
            )
        images = list(imgs)
        for name, value in (("confounds", confounds), ("sample_mask", sample_mask)):
            if value is not None and len(value) != len(images):
                raise ValueError(
                    f"number of {name} ({len(value)}) unequal to number of images "
                    f"({len(images)})."
                )
        confounds = confounds or [None] * len(images)
        sample_mask = sample_mask or [None] * len(images)
        return Parallel(n_jobs=self.n_jobs)(
            delayed(NiftiMasker.transform)(self, img, confounds=c, sample_mask=s)
            for img, c, s in zip(images, confounds, sample_mask)
        )

    def fit_transform(self, imgs, y=None, confounds=None, sample_mask=None):
        """Fit on ``imgs`` then transform them.

        Returns
        -------
        ndarray or list of ndarray
        """
        return self.fit(imgs, y).transform(imgs, confounds=confounds, sample_mask=sample_mask)

