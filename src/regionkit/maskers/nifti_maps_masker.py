"""Signals of continuous (probabilistic / ICA) maps, by least squares."""

from __future__ import annotations

import logging
import warnings

import nibabel as nib
import numpy as np
from scipy import sparse

from .._validation import Options
from .._warnings import EmptyRegionWarning
from ..image import check_niimg, resample_img
from ._base import BASE_PARAMETER_CONSTRAINTS, BaseMasker, _is_niimg_like
from ._extract import ExtractionPlan
from ._grid import (
    boolean_mask_on_grid,
    check_one_grid,
    grid_key,
    plan_for_data_grid,
    resample_to_grid,
    same_grid,
)
from ._maps_operators import find_map_overlaps, maps_plan, read_maps

logger = logging.getLogger(__name__)

__all__ = ["NiftiMapsMasker"]


class NiftiMapsMasker(BaseMasker):
    """Extract one time course per map by least-squares regression.

    Parameters
    ----------
    maps_img : Niimg-like
        4D image, one continuous map per volume. NaN/inf count as 0.
    mask_img : Niimg-like, optional
        Voxels outside the mask are ignored.
    allow_overlap : bool, default=True
        If False, a ValueError is raised when two maps are positive in one
        voxel (after resampling).
    smoothing_fwhm, standardize, standardize_confounds, \
high_variance_confounds, detrend, low_pass, high_pass, t_r, dtype
        As nilearn 0.14.1.
    resampling_target : {"data", "mask", "maps", None}, default="data"
        "data": maps (trilinear) and mask (nearest) are resampled onto the data
        grid once per data grid (cached on the fitted masker). "mask"/"maps":
        the data are resampled (cubic spline) onto that image's grid, chunk by
        chunk. None: all images must share one grid (else ValueError).
    keep_masked_maps : bool, default=False
        False (nilearn): maps with no non-zero voxel inside the mask on the fit
        grid are dropped (columns removed, with an
        :class:`~regionkit.EmptyRegionWarning`). True: they keep a column,
        NaN (nilearn 0.14.1 gives 0 there).
    memory, memory_level, verbose, reports, cmap
        Accepted for nilearn compatibility.
    clean_args : dict, optional
        Extra keyword arguments for :func:`regionkit.signal.clean`.
    **kwargs
        ``clean__<name>=value`` keyword arguments for ``clean``.

    Attributes
    ----------
    maps_img_ : Nifti1Image
        The maps on the fit grid (the input itself, still lazy, when no
        resampling was needed).
    mask_img_ : Nifti1Image or None
    n_elements_ : int
        Output columns (maps kept).
    maps_indices_ : ndarray of int
        Volume of ``maps_img`` behind each output column.
    region_coverage_ : ndarray of shape (n_elements_,)
        Fraction of each map's total absolute weight (in ``maps_img``) that
        lies inside the mask and field of view of the fit grid.
    extraction_plan_ : ExtractionPlan

    Notes
    -----
    The least-squares solution equals nilearn's ``scipy.linalg.lstsq``
    (minimum-norm) solution: ``pinv(M) = pinv(M.T M) M.T``. The small Gram
    pseudo-inverse is computed once at fit; transform does one product per
    chunk. Maps are read and resampled chunk by chunk, and kept sparse when
    they are, so 1024 localised maps never become a dense 4D array.
    A map with no voxel on the data grid gives a NaN column.
    """

    _parameter_constraints = {
        **BASE_PARAMETER_CONSTRAINTS,
        "maps_img": [_is_niimg_like],
        "mask_img": [None, _is_niimg_like],
        "allow_overlap": ["boolean"],
        "resampling_target": [Options(["data", "mask", "maps"]), None],
        "keep_masked_maps": ["boolean"],
        "cmap": "no_validation",
    }

    def __init__(
        self,
        maps_img=None,
        mask_img=None,
        allow_overlap=True,
        smoothing_fwhm=None,
        standardize=False,
        standardize_confounds=True,
        high_variance_confounds=False,
        detrend=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        dtype=None,
        resampling_target="data",
        keep_masked_maps=False,
        memory=None,
        memory_level=0,
        verbose=0,
        reports=True,
        cmap="CMRmap_r",
        clean_args=None,
        **kwargs,
    ):
        self.maps_img = maps_img
        self.mask_img = mask_img
        self.allow_overlap = allow_overlap
        self.smoothing_fwhm = smoothing_fwhm
        self.standardize = standardize
        self.standardize_confounds = standardize_confounds
        self.high_variance_confounds = high_variance_confounds
        self.detrend = detrend
        self.low_pass = low_pass
        self.high_pass = high_pass
        self.t_r = t_r
        self.dtype = dtype
        self.resampling_target = resampling_target
        self.keep_masked_maps = keep_masked_maps
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose
        self.reports = reports
        self.cmap = cmap
        self.clean_args = clean_args
        self._store_clean_kwargs(kwargs)

    # ------------------------------------------------------------------ fit
    def _fit_regions(self, img) -> None:
        owner = type(self).__name__
        if self.resampling_target == "mask" and self.mask_img is None:
            raise ValueError(
                "resampling_target has been set to 'mask' but no mask has been "
                "provided (mask_img=None). Set resampling_target to something else "
                "or provide a mask."
            )
        maps_img = check_niimg(self.maps_img, atleast_4d=True, name="maps_img")
        if len(maps_img.shape) != 4:
            raise ValueError(
                f"maps_img must be a 4D image (one map per volume), got shape {maps_img.shape}"
            )
        mask_img = self.mask_img_
        if self.resampling_target is None:
            check_one_grid(owner, "maps_img", maps_img, mask_img, img)

        if self.resampling_target == "data" and img is not None:
            ref = (tuple(img.shape[:3]), np.asarray(img.affine))
        elif self.resampling_target == "mask":
            ref = (tuple(mask_img.shape[:3]), np.asarray(mask_img.affine))
        else:
            ref = (tuple(maps_img.shape[:3]), np.asarray(maps_img.affine))
        shape, affine = ref
        resampled = not same_grid(maps_img.shape, maps_img.affine, shape, affine)
        maps = read_maps(maps_img, shape, affine)
        if not maps.values.size:
            raise ValueError(
                "No map left after resampling maps_img onto the grid of shape "
                f"{shape}." if resampled else "maps_img contains no map: every voxel is 0."
            )
        grid_mask = None
        if mask_img is not None:
            if not same_grid(mask_img.shape, mask_img.affine, shape, affine) and (
                self.resampling_target is not None
                and (img is not None or self.resampling_target != "data")
            ):
                mask_img = resample_to_grid(mask_img, shape, affine, "nearest")
            if same_grid(mask_img.shape, mask_img.affine, shape, affine):
                grid_mask = np.asarray(mask_img.dataobj).astype(bool)
        self.mask_img_ = mask_img

        in_mask = np.ones(maps.values.shape, dtype=bool)
        if grid_mask is not None:
            in_mask = grid_mask.ravel(order="F")[maps.rows]
        weight_in = np.bincount(
            maps.cols[in_mask], weights=np.abs(maps.values[in_mask]), minlength=maps.n_maps
        )
        if grid_mask is not None and not weight_in.any():
            raise ValueError(
                "No map left after applying mask to the maps image: mask_img "
                f"({int(grid_mask.sum())} voxels) does not overlap any non-zero voxel "
                f"of the {maps.n_maps} maps."
            )
        non_empty = np.flatnonzero(weight_in > 0)
        if self.keep_masked_maps or grid_mask is None:
            columns = np.arange(maps.n_maps)
        else:
            columns = non_empty
            dropped = sorted(set(range(maps.n_maps)) - set(columns.tolist()))
            if dropped:
                warnings.warn(
                    f"{owner}: after applying the mask, {len(dropped)} map(s) have no "
                    f"non-zero voxel left and are dropped: indices {dropped}. Pass "
                    "keep_masked_maps=True to keep them as NaN columns.",
                    EmptyRegionWarning,
                    stacklevel=3,
                )
        self.maps_indices_ = np.asarray(columns, dtype=np.int64)
        self.n_elements_ = len(columns)
        grid_volume = abs(np.linalg.det(affine[:3, :3]))
        with np.errstate(invalid="ignore", divide="ignore"):
            coverage = weight_in * grid_volume / maps.source_weight
        self.region_coverage_ = np.clip(np.nan_to_num(coverage[columns]), 0.0, 1.0)

        plan = maps_plan(maps, grid_mask, columns)
        self._check_overlap(maps)
        self.extraction_plan_ = plan
        self._plan_cache = {grid_key(shape, affine): plan}
        self.maps_img_ = (
            resample_img(maps_img, target_affine=affine, target_shape=shape,
                         interpolation="linear", force_resample=True, copy_header=True)
            if resampled and self.reports
            else maps_img
        )

    def _check_overlap(self, maps) -> None:
        if self.allow_overlap:
            return
        n_voxels = find_map_overlaps(maps)
        if n_voxels:
            raise ValueError(
                f"Overlap detected in the maps: {n_voxels} voxel(s) are positive in "
                "more than one map (the atlas itself, or resampling onto the data "
                "grid). Pass allow_overlap=True to allow it."
            )

    # ------------------------------------------------------------ transform
    def _plan_for_grid(self, shape, affine) -> ExtractionPlan:
        plan = self.extraction_plan_
        if plan.matches(shape, affine) or self.resampling_target in ("mask", "maps"):
            return plan
        return plan_for_data_grid(self, shape, affine, "maps_img", self._plan_on_grid)

    def _plan_on_grid(self, shape, affine) -> ExtractionPlan:
        logger.info(
            "%s: resampling the maps onto data grid %s (cached for later runs)",
            type(self).__name__,
            tuple(shape[:3]),
        )
        maps_img = check_niimg(self.maps_img, atleast_4d=True, name="maps_img")
        maps = read_maps(maps_img, shape, affine)
        if not maps.values.size:
            raise ValueError(
                f"No map left after resampling maps_img onto the data grid {tuple(shape)}."
            )
        self._check_overlap(maps)
        mask_on_grid = None
        if self.mask_img_ is not None:
            mask_on_grid = boolean_mask_on_grid(self.mask_img_, shape, affine)
        return maps_plan(maps, mask_on_grid, self.maps_indices_)

    def _check_empty_regions(self, plan: ExtractionPlan) -> None:
        if plan.empty_regions.size:
            indices = self.maps_indices_[plan.empty_regions].tolist()
            warnings.warn(
                f"{type(self).__name__}: {len(indices)} map(s) have no non-zero voxel "
                f"inside the image and mask; their columns are NaN: maps {indices}.",
                EmptyRegionWarning,
                stacklevel=4,
            )

    def _inverse_voxel_signals(self, signals_2d):
        plan = self.extraction_plan_
        projection = plan.aggregations[0].func
        matrix = projection.matrix
        n_voxels = int(np.prod(plan.shape))
        values = np.nan_to_num(signals_2d.astype(np.float64)) @ (
            matrix.T if sparse.issparse(matrix) else matrix.T.astype(np.float64)
        )
        flat = np.zeros((signals_2d.shape[0], n_voxels), dtype=np.float64)
        flat[:, plan.union] = np.asarray(values)
        shape = plan.shape
        volumes = flat.reshape(signals_2d.shape[0], shape[2], shape[1], shape[0]).transpose(
            3, 2, 1, 0
        )
        return volumes, plan.affine
