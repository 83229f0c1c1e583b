"""Streamed extraction: one decode of the image feeds every region operator.

Outline
-------
1. :func:`iter_blocks` yields (n_volumes_in_chunk, n_voxels) float32 blocks.
2. If smoothing is asked for, each chunk's volumes are smoothed (whole volumes
   are needed for that, but only a chunk of them at a time).
3. Each :class:`ExtractionPlan` gathers only the union of the voxels its
   regions read, ``block[:, plan.union]``, and aggregates: the mean with one
   sparse matrix product, any other function region by region on its
   (n_volumes, n_voxels) slice, the eigenvariate from a per-region buffer of
   the whole time series (small: one region's voxels).
4. Non-finite values are replaced by 0 as nilearn does (always when a mask is
   used; otherwise only when the image holds NaN somewhere), and counted.

Peak memory is one chunk of the image plus the outputs; it does not grow with
the run length except for the eigenvariate buffers.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.ndimage import gaussian_filter1d

from .._warnings import NonFiniteDataWarning
from ..image import smooth_array
from ..image._smooth import _check_fwhm, fwhm_to_sigma
from ..image.stream import iter_blocks

logger = logging.getLogger(__name__)

__all__ = ["Aggregation", "ExtractionPlan", "NonFiniteReport", "extract_signals"]

DEFAULT_CHUNK_SIZE = 16

NONFINITE_ALWAYS = "always"  # nilearn's masked path (apply_mask_fmri)
NONFINITE_IF_NAN = "if_nan"  # nilearn's unmasked path: only if the image has NaN


@dataclass(frozen=True)
class Aggregation:
    """One way of summarising a region's voxels at each time point.

    Attributes
    ----------
    name : str
        Used in column names (``stat-<name>``).
    kind : {"linear", "eigenvariate", "callable"}
        ``"linear"``: ``values @ plan.operator`` (the sparse mean of spheres and
        labels, or a maps masker's least-squares projection).
        ``"block"``: ``func(values)`` called once per chunk on the gathered
        (n_volumes, n_selected_voxels) float32 values, returning
        (n_volumes, n_regions).
    func : callable or None
        For ``"callable"``: called as ``func(values, axis=1)`` on a region's
        (n_volumes, n_voxels) array, must return (n_volumes,).
    """

    name: str
    kind: str
    func: Callable | None = None


@dataclass
class ExtractionPlan:
    """Everything ``transform`` needs to extract signals on one image grid.

    Built once (at ``fit`` when the grid is known), reused for every run.

    Attributes
    ----------
    shape : tuple of 3 ints
        Grid shape the voxel indices refer to.
    affine : ndarray of shape (4, 4)
        Grid affine.
    union : ndarray of int64, shape (n_selected_voxels,)
        Sorted flat (Fortran-order) indices of every voxel any region reads.
    positions : list of ndarray of int64
        For each region, the positions of its voxels in ``union``.
    aggregations : list of Aggregation
        Computed in the same pass; outputs are stacked aggregation-major.
    nonfinite : {"always", "if_nan"}
        When non-finite values are set to 0 (see module notes).
    operator : scipy.sparse matrix, ndarray or None
        (n_selected_voxels, n_regions) float32 operator used by ``"linear"``
        aggregations.
    empty_regions : ndarray of int
        Regions with no voxel: NaN for linear aggregations, ``func`` applied to
        an empty array for callables.
    """

    shape: tuple
    affine: np.ndarray
    union: np.ndarray
    positions: list
    aggregations: list
    nonfinite: str = NONFINITE_IF_NAN
    operator: sparse.spmatrix | np.ndarray | None = None
    empty_regions: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def n_regions(self) -> int:
        return len(self.positions)

    def matches(self, shape, affine) -> bool:
        """Whether this plan was built for the grid (shape, affine)."""
        return tuple(shape[:3]) == tuple(self.shape) and np.allclose(
            np.asarray(affine), self.affine, rtol=0, atol=1e-6
        )


@dataclass
class NonFiniteReport:
    """Non-finite values met in the voxels a plan read.

    Attributes
    ----------
    n_voxels : int
        Gathered voxels holding NaN or inf in at least one volume.
    replaced : bool
        Whether they were set to 0.
    """

    n_voxels: int
    replaced: bool


def voxel_box(voxels: np.ndarray, shape: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    """Inclusive-exclusive bounds ``(low, high)`` along x, y, z of flat (Fortran-order) voxel indices."""
    voxels = np.asarray(voxels)
    if voxels.size == 0:
        return None
    coordinates = np.unravel_index(voxels, shape, order="F")
    return (
        np.array([c.min() for c in coordinates], dtype=np.intp),
        np.array([c.max() + 1 for c in coordinates], dtype=np.intp),
    )


def _smooth_block(block, shape, affine, fwhm, box=None):
    """Smooth each volume of a (n, X*Y*Z) block; returns a new float32 block.

    The block's rows are volumes in Fortran voxel order, i.e. a C-ordered
    (n, Z, Y, X) array: the Gaussian runs along its last three axes in place
    (x, then y, then z, as :func:`~regionkit.image.smooth_array`), with no
    transposed copies. Same numbers as ``smooth_array`` on the volumes.

    ``box``: bounds ``(low, high)`` (from :func:`voxel_box`) of the voxels the
    caller will read. Only that box, widened by the kernel's radius along each
    axis, is smoothed: the separable filter's value at a voxel depends on
    voxels within the radius along each axis, so the values inside the box are
    those of the whole volume, bit for bit; voxels outside it are left as read.
    """
    n_volumes = block.shape[0]
    if isinstance(fwhm, str) or (isinstance(fwhm, numbers.Real) and fwhm == 0):  # "fast" / 0 (warns)
        volumes = block.reshape(n_volumes, shape[2], shape[1], shape[0]).transpose(3, 2, 1, 0)
        smoothed = np.asarray(smooth_array(volumes, affine, fwhm, ensure_finite=True, copy=True), dtype=np.float32)
        return np.ascontiguousarray(smoothed.transpose(3, 2, 1, 0).reshape(n_volumes, -1))
    fwhm = _check_fwhm(fwhm)
    sigmas = [] if fwhm is None else list(fwhm_to_sigma(fwhm, affine))
    out = np.array(block, dtype=np.float32, order="C").reshape(n_volumes, shape[2], shape[1], shape[0])
    volumes = out
    if box is not None:
        # scipy's gaussian_filter1d reaches int(4 sigma + 0.5) voxels (truncate=4)
        radius = np.array([int(4.0 * sigma + 0.5) for sigma in sigmas] or [0, 0, 0])
        low = np.maximum(box[0] - radius, 0)
        high = np.minimum(box[1] + radius, shape)
        crop = (slice(None),) + tuple(slice(low[a], high[a]) for a in (2, 1, 0))
        volumes = np.ascontiguousarray(out[crop])
    finite = np.isfinite(volumes)
    if not finite.all():
        volumes[~finite] = 0
    del finite
    for axis, sigma in enumerate(sigmas):
        if sigma > 0:
            gaussian_filter1d(volumes, sigma, output=volumes, axis=3 - axis)
    if volumes is not out:
        out[crop] = volumes
    return out.reshape(n_volumes, -1)


class _Accumulator:
    """Per-plan outputs filled chunk by chunk."""

    def __init__(self, plan: ExtractionPlan, n_volumes: int):
        self.plan = plan
        n_regions = plan.n_regions
        self.outputs = [
            np.full((n_volumes, n_regions), np.nan, dtype=np.float64)
            for _ in plan.aggregations
        ]
        self.needs_buffer = any(a.kind == "eigenvariate" for a in plan.aggregations)
        self.buffer = (
            np.empty((n_volumes, len(plan.union)), dtype=np.float32)
            if self.needs_buffer
            else None
        )
        self.nonfinite_voxels = np.zeros(len(plan.union), dtype=bool)
        # rows whose values would differ once non-finite values are zeroed
        self.zeroed_chunks: list[tuple[int, list]] = []
        self.non_empty = [r for r, p in enumerate(plan.positions) if len(p)]

    def _aggregate(self, values, targets):
        """Aggregate a chunk's gathered values into ``targets`` (chunk-sized views)."""
        plan = self.plan
        for agg, target in zip(plan.aggregations, targets):
            if agg.kind == "linear":
                # float64 accumulation: sphere means of ~1000-valued voxels
                # keep full precision (nilearn's float32 mean loses ~3 ulp)
                target[:] = values.astype(np.float64) @ plan.operator
            elif agg.kind == "callable":
                for r in self.non_empty:
                    target[:, r] = agg.func(values[:, plan.positions[r]], axis=1)
            elif agg.kind == "block":
                # one call per chunk on all gathered voxels (labels strategies,
                # factorised maps projection); func handles empty regions itself
                target[:] = agg.func(values)

    def feed(self, start, block):
        plan = self.plan
        values = block[:, plan.union]
        if self.buffer is not None:
            self.buffer[start : start + values.shape[0]] = values
        stop = start + values.shape[0]
        views = [out[start:stop] for out in self.outputs]
        finite = np.isfinite(values)
        if finite.all():
            self._aggregate(values, views)
            return
        self.nonfinite_voxels |= ~finite.all(axis=0)
        zeroed = np.where(finite, values, np.float32(0))
        if plan.nonfinite == NONFINITE_ALWAYS:
            self._aggregate(zeroed, views)
            return
        # Unmasked path: whether to zero depends on the whole image (known at
        # the end), so keep both results for this chunk (output-sized).
        with np.errstate(invalid="ignore", over="ignore"):
            self._aggregate(values, views)
        alternative = [np.full_like(view, np.nan) for view in views]
        self._aggregate(zeroed, alternative)
        self.zeroed_chunks.append((start, alternative))

    def finish(self, image_has_nan: bool) -> tuple[list, NonFiniteReport]:
        plan = self.plan
        replaced = plan.nonfinite == NONFINITE_ALWAYS or image_has_nan
        if replaced:
            for start, alternative in self.zeroed_chunks:
                for out, alt in zip(self.outputs, alternative):
                    out[start : start + alt.shape[0]] = alt
            if self.buffer is not None and self.nonfinite_voxels.any():
                self.buffer[~np.isfinite(self.buffer)] = 0
        n_volumes = self.outputs[0].shape[0] if self.outputs else 0
        for agg, out in zip(plan.aggregations, self.outputs):
            if agg.kind == "eigenvariate":
                for r in self.non_empty:
                    out[:, r] = eigenvariate(self.buffer[:, plan.positions[r]])
            if agg.kind == "callable":
                for r in plan.empty_regions:
                    with warnings.catch_warnings(), np.errstate(all="ignore"):
                        warnings.simplefilter("ignore", RuntimeWarning)
                        out[:, r] = agg.func(
                            np.empty((n_volumes, 0), dtype=np.float32), axis=1
                        )
            if agg.kind == "linear" and plan.empty_regions.size:
                out[:, plan.empty_regions] = np.nan  # np.mean of an empty array
            # the eigenvariate of an empty region stays NaN
        report = NonFiniteReport(int(self.nonfinite_voxels.sum()), bool(replaced))
        return self.outputs, report


def eigenvariate(values: np.ndarray) -> np.ndarray:
    """First principal component time course of a region, sign-aligned with its mean.

    Parameters
    ----------
    values : ndarray of shape (n_volumes, n_voxels)
        The region's voxel signals.

    Returns
    -------
    ndarray of shape (n_volumes,)
        ``u[:, 0] * s[0] / sqrt(n_voxels)`` from the SVD of the column-centred
        ``values`` (SPM's scaling, so amplitudes are comparable with a voxel's),
        with its sign chosen so that it correlates positively with the mean
        time course.
    """
    values = np.asarray(values, dtype=np.float64)
    n_volumes, n_voxels = values.shape
    if n_voxels == 0:
        return np.full(n_volumes, np.nan)
    centred = values - values.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    component = u[:, 0] * s[0] / np.sqrt(n_voxels)
    mean_course = centred.mean(axis=1)
    if np.dot(component, mean_course) < 0:
        component = -component
    return component


def _union_box(plans: list[ExtractionPlan], shape: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    """Bounds of every voxel the plans read (None: none, smooth everything)."""
    boxes = [b for b in (voxel_box(plan.union, shape) for plan in plans) if b is not None]
    if not boxes:
        return None
    return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)


def extract_signals(
    img,
    plans: list[ExtractionPlan],
    smoothing_fwhm=None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> list[tuple[list, NonFiniteReport]]:
    """Decode ``img`` once and feed every plan's gather from the same chunks.

    Parameters
    ----------
    img : nibabel.Nifti1Image
        3D or 4D image, checked by the caller, on the grid of every plan.
    plans : list of ExtractionPlan
        One per masker.
    smoothing_fwhm : float or list of float or None
        Per-plan smoothing is not supported: all plans share it.
    chunk_size : int
        Volumes decoded at a time.

    Returns
    -------
    list of (list of ndarray, NonFiniteReport)
        For each plan, one (n_volumes, n_regions) float64 array per
        aggregation, and what was found about non-finite values.
    """
    n_volumes = img.shape[3] if len(img.shape) == 4 else 1
    shape = tuple(img.shape[:3])
    accumulators = [_Accumulator(plan, n_volumes) for plan in plans]
    watch_nan = smoothing_fwhm is None and any(p.nonfinite == NONFINITE_IF_NAN for p in plans)
    image_has_nan = False
    seen_pos_inf = seen_neg_inf = False
    box = _union_box(plans, shape) if smoothing_fwhm is not None else None
    for start, block in iter_blocks(img, chunk_size=chunk_size):
        if smoothing_fwhm is not None:
            block = _smooth_block(block, shape, img.affine, smoothing_fwhm, box)
        if watch_nan and not image_has_nan:
            # nilearn tests np.isnan(np.sum(data)): NaN anywhere, or +inf and -inf.
            with np.errstate(invalid="ignore", over="ignore"):
                total = block.sum()
            if np.isnan(total):
                image_has_nan = True
            elif np.isinf(total):
                seen_pos_inf |= total > 0
                seen_neg_inf |= total < 0
                image_has_nan = seen_pos_inf and seen_neg_inf
        for accumulator in accumulators:
            accumulator.feed(start, block)
    return [accumulator.finish(image_has_nan) for accumulator in accumulators]


def warn_nonfinite(report: NonFiniteReport, owner: str) -> None:
    """Emit one NonFiniteDataWarning describing ``report`` (if anything was found)."""
    if report.n_voxels == 0:
        return
    action = (
        "were set to 0 before aggregation (as nilearn does)"
        if report.replaced
        else "were left as they are, as nilearn does when the image holds no NaN"
    )
    warnings.warn(
        f"{owner}: {report.n_voxels} voxel(s) read by the regions hold NaN or "
        f"infinite values; these values {action}.",
        NonFiniteDataWarning,
        stacklevel=3,
    )
