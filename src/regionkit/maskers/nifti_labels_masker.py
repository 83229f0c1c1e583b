"""Signals of the regions of a label atlas (one integer value per region)."""

from __future__ import annotations

import logging
import warnings

import nibabel as nib
import numpy as np

from .._validation import Options, predicate
from .._warnings import EmptyRegionWarning
from ..image import check_niimg
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
from ._label_operators import STRATEGIES, build_lut, check_label_values, label_plan

logger = logging.getLogger(__name__)

__all__ = ["NiftiLabelsMasker"]


@predicate("a number")
def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _voxel_volume(affine) -> float:
    return float(abs(np.linalg.det(np.asarray(affine, dtype=np.float64)[:3, :3])))


class NiftiLabelsMasker(BaseMasker):
    """Extract the signals of the regions of a label image.

    Parameters
    ----------
    labels_img : Niimg-like
        3D image whose voxels hold whole-number region labels (any integer
        dtype, e.g. int16 for a 400- or 1000-region atlas, or floats holding
        whole numbers). NaN/inf voxels are background.
    labels : list of str, optional
        Region names, in increasing label order (the background may be
        included or not). Exclusive with ``lut``.
    lut : DataFrame or path, optional
        Look-up table with ``index`` and ``name`` columns (BIDS dseg.tsv).
    background_label : number, default=0
        Value of the voxels that belong to no region.
    mask_img : Niimg-like, optional
        Voxels outside the mask are background. Resampled (nearest) onto the
        extraction grid when needed.
    smoothing_fwhm, standardize, standardize_confounds, \
high_variance_confounds, detrend, low_pass, high_pass, t_r, dtype
        As :class:`~regionkit.maskers.NiftiSpheresMasker` (nilearn 0.14.1).
    resampling_target : {"data", "labels", None}, default="data"
        "data": the labels (nearest) and mask are resampled onto the data grid,
        once per data grid (cached on the fitted masker, so a masker reused
        over many runs on one grid pays it once). "labels": the data are
        resampled (cubic spline) onto the labels grid, chunk by chunk. None:
        every image must already share one grid, else ValueError.
    memory, memory_level, verbose, reports, cmap
        Accepted for nilearn compatibility (operators are built once at fit;
        progress goes through ``logging``).
    strategy : str, default="mean"
        One of "mean", "median", "sum", "minimum", "maximum",
        "standard_deviation", "variance" (``scipy.ndimage`` semantics).
    keep_masked_labels : bool, default=False
        False (nilearn): labels left with no voxel once the mask is applied on
        the fit grid are dropped (columns removed, with an
        :class:`~regionkit.EmptyRegionWarning`). True: every label of the
        image keeps its column; an empty region gives a NaN column (nilearn
        0.14.1 gives 0 there and warns of the parameter's removal).
    clean_args : dict, optional
        Extra keyword arguments for :func:`regionkit.signal.clean`.
    **kwargs
        ``clean__<name>=value`` keyword arguments for ``clean``.

    Attributes
    ----------
    labels_img_ : Nifti1Image
        The labels on the fit grid (resampled onto the data passed to ``fit``
        when ``resampling_target="data"``).
    mask_img_ : Nifti1Image or None
        The mask on the fit grid.
    lut_ : pandas.DataFrame
        Look-up table of every label of ``labels_img`` (background first).
    region_ids_ : dict
        ``region_ids_[i]`` is the label of output column ``i``;
        ``region_ids_["background"]`` the background label (if present).
    region_names_ : dict
        ``region_names_[i]`` is the name of output column ``i``.
    region_atlas_ : Nifti1Image
        int32 labels after masking, on the fit grid.
    region_coverage_ : ndarray of shape (n_regions,)
        Fraction of each region's volume (in ``labels_img``) that lies inside
        the mask and the field of view of the fit grid.
    n_elements_ : int
        Number of output columns.
    extraction_plan_ : ExtractionPlan
        Operators on the fit grid.

    Notes
    -----
    Columns are fixed at ``fit``. If a later image on another grid leaves a
    region with no voxel, that column is NaN (with an
    :class:`~regionkit.EmptyRegionWarning`) instead of disappearing as in
    nilearn, so columns never shift between subjects.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from regionkit.maskers import NiftiLabelsMasker
    >>> labels = np.zeros((4, 4, 4), np.int16); labels[:2] = 300; labels[2:] = 7
    >>> img = nib.Nifti1Image(np.ones((4, 4, 4, 5), np.float32), np.eye(4))
    >>> masker = NiftiLabelsMasker(nib.Nifti1Image(labels, np.eye(4)))
    >>> masker.fit_transform(img).shape
    (5, 2)
    >>> masker.region_ids_
    {0: 7, 1: 300}
    """

    _parameter_constraints = {
        **BASE_PARAMETER_CONSTRAINTS,
        "labels_img": [_is_niimg_like],
        "labels": [None, list],
        "lut": "no_validation",
        "background_label": [_is_number],
        "mask_img": [None, _is_niimg_like],
        "resampling_target": [Options(["data", "labels"]), None],
        "strategy": [Options(list(STRATEGIES))],
        "keep_masked_labels": ["boolean"],
        "cmap": "no_validation",
    }

    def __init__(
        self,
        labels_img=None,
        labels=None,
        lut=None,
        background_label=0,
        mask_img=None,
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
        memory=None,
        memory_level=1,
        verbose=0,
        strategy="mean",
        keep_masked_labels=False,
        reports=True,
        cmap=None,
        clean_args=None,
        **kwargs,
    ):
        self.labels_img = labels_img
        self.labels = labels
        self.lut = lut
        self.background_label = background_label
        self.mask_img = mask_img
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
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose
        self.strategy = strategy
        self.keep_masked_labels = keep_masked_labels
        self.reports = reports
        self.cmap = cmap
        self.clean_args = clean_args
        self._store_clean_kwargs(kwargs)

    # ------------------------------------------------------------------ fit
    def _check_names(self) -> None:
        if self.labels is not None and self.lut is not None:
            raise ValueError(
                "Pass either labels or a lookup table (lut) to the masker, but not both."
            )
        if self.labels is not None and not all(isinstance(n, str) for n in self.labels):
            kinds = sorted({type(n).__name__ for n in self.labels})
            raise TypeError(
                f"All elements of 'labels' must be a string. Got a list of {kinds}."
            )

    def _load_labels(self):
        img = check_niimg(self.labels_img, ensure_ndim=3, name="labels_img")
        data = check_label_values(np.asarray(img.dataobj), name="labels_img")
        if np.all(data == self.background_label):
            raise ValueError(
                "Image has no label: every voxel of labels_img equals "
                f"background_label={self.background_label!r} (shape {data.shape})."
            )
        return img, data

    def _fit_regions(self, img) -> None:
        self._check_names()
        owner = type(self).__name__
        labels_img, labels_data = self._load_labels()
        source_affine = np.asarray(labels_img.affine)
        present = np.unique(labels_data).tolist()
        self.lut_ = build_lut(present, self.background_label, self.labels, self.lut)
        mask_img = self.mask_img_

        if self.resampling_target is None:
            check_one_grid(owner, "labels_img", labels_img, mask_img, img)

        if self.resampling_target == "data" and img is not None:
            shape, affine = tuple(img.shape[:3]), np.asarray(img.affine)
        else:
            shape, affine = tuple(labels_img.shape[:3]), np.asarray(labels_img.affine)

        grid_labels = labels_data
        if not same_grid(labels_img.shape, labels_img.affine, shape, affine):
            logger.info("%s: resampling labels_img onto the data grid %s", owner, shape)
            grid_labels = self._resample_labels(labels_img, labels_data, shape, affine)
            labels_img = nib.Nifti1Image(grid_labels, affine)
        grid_mask = None
        if mask_img is not None:
            if same_grid(mask_img.shape, mask_img.affine, shape, affine):
                grid_mask = np.asarray(mask_img.dataobj).astype(bool)
            elif self.resampling_target is not None and (
                img is not None or self.resampling_target == "labels"
            ):
                mask_img = resample_to_grid(mask_img, shape, affine, "nearest")
                grid_mask = np.asarray(mask_img.dataobj).astype(bool)
                if not grid_mask.any():
                    raise ValueError(
                        "The mask is invalid as it is empty once resampled onto the "
                        f"extraction grid of shape {shape}."
                    )
        self.mask_img_ = mask_img
        self.labels_img_ = labels_img

        on_grid = grid_labels if grid_mask is None else np.where(
            grid_mask, grid_labels, self.background_label
        )
        remaining = [v for v in np.unique(on_grid).tolist() if v != self.background_label]
        all_ids = [v for v in self.lut_["index"].tolist() if v != self.background_label]
        if grid_mask is not None and not remaining:
            raise ValueError(
                "No label left after applying mask to the labels image: mask_img "
                f"({int(grid_mask.sum())} voxels) does not overlap any of the "
                f"{len(all_ids)} labels."
            )
        grid_ids = [v for v in np.unique(grid_labels).tolist() if v != self.background_label]
        region_ids = all_ids if self.keep_masked_labels else remaining
        dropped = sorted(set(grid_ids) - set(remaining))
        if dropped and not self.keep_masked_labels:
            warnings.warn(
                f"{owner}: after applying the mask to the labels image, {len(dropped)} "
                f"label(s) have no voxel left and are dropped: {dropped}. Pass "
                "keep_masked_labels=True to keep them as NaN columns.",
                EmptyRegionWarning,
                stacklevel=3,
            )
        self._region_id_list = list(region_ids)
        self.n_elements_ = len(region_ids)
        names = self.lut_.set_index("index")["name"]
        self.region_names_ = {i: names.loc[v] for i, v in enumerate(region_ids)}
        self.region_ids_ = {}
        if self.background_label in present:
            self.region_ids_["background"] = self.background_label
        self.region_ids_.update(dict(enumerate(region_ids)))
        self.region_atlas_ = nib.Nifti1Image(on_grid.astype(np.int32), affine)

        plan = label_plan(
            grid_labels, grid_mask, region_ids, self.background_label, self.strategy, affine
        )
        self.extraction_plan_ = plan
        self._plan_cache = {grid_key(shape, affine): plan}
        values, counts = np.unique(labels_data, return_counts=True)
        original_counts = dict(zip(values.tolist(), counts.tolist()))
        scale = _voxel_volume(affine) / _voxel_volume(source_affine)
        self.region_coverage_ = np.array(
            [
                min(1.0, len(p) * scale / original_counts[v]) if v in original_counts else 0.0
                for v, p in zip(region_ids, plan.positions)
            ]
        )

    def _resample_labels(self, labels_img, labels_data, shape, affine) -> np.ndarray:
        source = nib.Nifti1Image(labels_data, labels_img.affine)
        resampled = np.asarray(resample_to_grid(source, shape, affine, "nearest").dataobj)
        before = set(np.unique(labels_data).tolist())
        after = set(np.unique(resampled).tolist())
        if len(after - {self.background_label}) == 0:
            raise ValueError(
                "No label left after resampling the labels image onto the data grid "
                f"(shape {tuple(shape)}): the atlas does not overlap the data's field "
                "of view."
            )
        lost = sorted(before - after)
        if lost:
            warnings.warn(
                f"{type(self).__name__}: after resampling the labels image onto the "
                f"data grid, {len(lost)} label(s) have no voxel left: {lost}.",
                EmptyRegionWarning,
                stacklevel=4,
            )
        return resampled

    # ------------------------------------------------------------ transform
    def _plan_for_grid(self, shape, affine) -> ExtractionPlan:
        plan = self.extraction_plan_
        if plan.matches(shape, affine) or self.resampling_target == "labels":
            return plan
        return plan_for_data_grid(self, shape, affine, "labels_img", self._plan_on_grid)

    def _plan_on_grid(self, shape, affine) -> ExtractionPlan:
        logger.info(
            "%s: building label operators for data grid %s (cached for later runs)",
            type(self).__name__,
            tuple(shape[:3]),
        )
        labels_img = self.labels_img_
        labels_data = np.asarray(labels_img.dataobj)
        grid_labels = self._resample_labels(labels_img, labels_data, shape, affine)
        mask_on_grid = None
        if self.mask_img_ is not None:
            mask_on_grid = boolean_mask_on_grid(self.mask_img_, shape, affine)
        return label_plan(
            grid_labels, mask_on_grid, self._region_id_list, self.background_label,
            self.strategy, np.asarray(affine),
        )

    def _check_empty_regions(self, plan: ExtractionPlan) -> None:
        if plan.empty_regions.size:
            ids = [self._region_id_list[i] for i in plan.empty_regions]
            warnings.warn(
                f"{type(self).__name__}: {len(ids)} region(s) have no voxel inside the "
                f"image and mask; their columns are NaN: labels {ids}.",
                EmptyRegionWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------------ names etc.
    @property
    def labels_(self) -> list:
        """Label values of the output columns, background first if present."""
        ids = list(self._region_id_list)
        if "background" in self.region_ids_:
            ids = [self.background_label, *ids]
        return ids

    def _region_names(self) -> list[str]:
        return [str(n) for n in self.region_names_.values()]

    def _inverse_voxel_signals(self, signals_2d):
        plan = self.extraction_plan_
        shape = plan.shape
        n_voxels = int(np.prod(shape))
        flat = np.zeros((signals_2d.shape[0], n_voxels), dtype=signals_2d.dtype)
        for region, positions in enumerate(plan.positions):
            flat[:, plan.union[positions]] = signals_2d[:, [region]]
        volumes = flat.reshape(signals_2d.shape[0], shape[2], shape[1], shape[0]).transpose(
            3, 2, 1, 0
        )
        return volumes, plan.affine
