"""Signals of spheres centred on seed coordinates."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping

import numpy as np

from .._validation import Interval, predicate
from .._warnings import EmptyRegionWarning
from ._base import BASE_PARAMETER_CONSTRAINTS, BaseMasker, _is_niimg_like
from ._extract import NONFINITE_ALWAYS, NONFINITE_IF_NAN, Aggregation, ExtractionPlan
from ._grid import resample_to_grid
from ._operators import find_overlaps, mean_operator, select_sphere_voxels, union_positions

logger = logging.getLogger(__name__)

__all__ = ["NiftiSpheresMasker", "JuniferNiftiSpheresMasker"]

_NAMED_AGGREGATIONS = {
    "mean": Aggregation("mean", "linear"),
    "median": Aggregation("median", "callable", np.median),
    "std": Aggregation("std", "callable", np.std),
    "eigenvariate": Aggregation("eigenvariate", "eigenvariate"),
}
_KNOWN_FUNCTIONS = {id(np.mean): "mean", id(np.median): "median", id(np.std): "std"}


def _as_aggregation(spec, name: str | None = None) -> Aggregation:
    if isinstance(spec, str):
        if spec not in _NAMED_AGGREGATIONS:
            raise ValueError(
                f"agg_func name {spec!r} is not known; expected a callable or one of "
                f"{sorted(_NAMED_AGGREGATIONS)}."
            )
        base = _NAMED_AGGREGATIONS[spec]
        return Aggregation(name or base.name, base.kind, base.func)
    if callable(spec):
        known = _KNOWN_FUNCTIONS.get(id(spec))
        if known is not None:
            base = _NAMED_AGGREGATIONS[known]
            return Aggregation(name or base.name, base.kind, base.func)
        default = getattr(spec, "__name__", "agg")
        if default == "<lambda>":
            default = "lambda"
        return Aggregation(name or default, "callable", spec)
    raise TypeError(
        f"agg_func must be a callable, a name in {sorted(_NAMED_AGGREGATIONS)}, or a "
        f"list/dict of those; got {spec!r} of type {type(spec).__name__}."
    )


def parse_aggregations(agg_func) -> list[Aggregation]:
    """Turn ``agg_func`` (callable, name, list or dict) into Aggregations.

    Raises
    ------
    TypeError, ValueError
        Not callable / unknown name / empty or duplicated names.
    """
    if isinstance(agg_func, Mapping):
        aggregations = [_as_aggregation(spec, str(name)) for name, spec in agg_func.items()]
    elif isinstance(agg_func, (list, tuple)):
        aggregations = [_as_aggregation(spec) for spec in agg_func]
        names = [a.name for a in aggregations]
        # Unnamed lambdas / repeated names get their position appended.
        counts = {n: names.count(n) for n in names}
        aggregations = [
            Aggregation(f"{a.name}{i}", a.kind, a.func) if counts[a.name] > 1 else a
            for i, a in enumerate(aggregations)
        ]
    else:
        aggregations = [_as_aggregation(agg_func)]
    if not aggregations:
        raise ValueError("agg_func must name at least one aggregation, got an empty collection")
    return aggregations


@predicate("a callable, a name in {'mean', 'median', 'std', 'eigenvariate'} or a list/dict of those")
def _is_agg_func(value) -> bool:
    def ok(spec):
        return callable(spec) or (isinstance(spec, str) and spec in _NAMED_AGGREGATIONS)

    if isinstance(value, Mapping):
        return len(value) > 0 and all(ok(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(ok(v) for v in value)
    return ok(value)


def check_seeds(seeds) -> list[list[float]]:
    """Validate seeds: an iterable of finite (x, y, z) triplets.

    Returns
    -------
    list of list of float
        ``seeds_`` as nilearn stores it.
    """
    intro = "seeds must be a list of (x, y, z) triplets of coordinates in native space"
    if seeds is None or isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise ValueError(f"{intro}; got {seeds!r} of type {type(seeds).__name__}.")
    checked = []
    for i, seed in enumerate(seeds):
        if not hasattr(seed, "__len__") or isinstance(seed, (str, bytes)):
            raise ValueError(
                f"{intro}; seed #{i} is {seed!r} of type {type(seed).__name__}, not a triplet."
            )
        seed = seed.tolist() if isinstance(seed, np.ndarray) else list(seed)
        if len(seed) != 3:
            raise ValueError(f"{intro}; seed #{i} {seed!r} is of length {len(seed)} instead of 3.")
        try:
            values = np.asarray(seed, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{intro}; seed #{i} {seed!r} holds a non-numeric value.") from None
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{intro}; seed #{i} {seed!r} holds a NaN or infinite coordinate.")
        checked.append(seed)
    if not checked:
        raise ValueError(f"{intro}; got an empty list of seeds.")
    return checked


def _format_seed(seeds, index) -> str:
    x, y, z = (float(v) for v in seeds[index])
    return f"#{index} ({x:g}, {y:g}, {z:g})"


class NiftiSpheresMasker(BaseMasker):
    """Extract the signals of spheres centred on seeds.

    Parameters
    ----------
    seeds : array-like of shape (n_seeds, 3)
        Seed coordinates in the images' world space (typically MNI mm).
    radius : float or None, default=None
        Sphere radius in mm. None reads the voxel nearest to each seed
        (nilearn's rule, which may add the voxel containing the seed).
    mask_img : Niimg-like, optional
        Voxels outside it are never read. Resampled (nearest) to the images.
    allow_overlap : bool, default=False
        If False, spheres sharing a voxel raise a ValueError naming them.
    smoothing_fwhm : float, optional
        Gaussian smoothing (mm) applied volume by volume before extraction.
    standardize, standardize_confounds, high_variance_confounds, detrend, \
low_pass, high_pass, t_r
        Passed to :func:`regionkit.signal.clean` (as nilearn 0.14.1).
    dtype : dtype or "auto", optional
        Output dtype.
    memory, memory_level
        Accepted for nilearn compatibility; region operators are built once at
        ``fit`` so nothing else is cached.
    verbose : int, default=0
        Progress messages go through ``logging``.
    reports : bool, default=True
        Accepted for compatibility (reports are built from a fitted masker).
    clean_args : dict, optional
        Extra keyword arguments for :func:`regionkit.signal.clean`.
    agg_func : callable, str, list or dict, default=numpy.mean
        How each sphere's voxels are summarised at each time point. A callable
        is called as ``agg_func(values, axis=1)`` on the sphere's
        (n_timepoints, n_voxels) array and must reduce each time point
        independently (it is applied chunk by chunk). ``np.mean`` uses a sparse
        matrix product. Names: ``"mean"``, ``"median"``, ``"std"``,
        ``"eigenvariate"`` (first principal component time course,
        sign-aligned with the mean). A list or dict computes several in one
        pass; columns are then aggregation-major and named
        ``region-<index>_stat-<name>``.
    allow_empty : bool, default=False
        False: a sphere with no voxel (outside the image or the mask) raises,
        naming the seed. True: ``agg_func`` is applied to the empty array
        (NaN for the mean) and one :class:`~regionkit.EmptyRegionWarning`
        lists the empty seeds.
    **kwargs
        ``clean__<name>=value`` keyword arguments for ``clean``.

    Attributes
    ----------
    seeds_ : list of list of float
        Validated seeds.
    n_elements_ : int
        Number of seeds.
    region_coverage_ : ndarray of shape (n_seeds,)
        Fraction of each sphere's voxels inside the mask and field of view of
        the grid used at fit (NaN when fitted without image or mask).
    mask_img_ : Nifti1Image or None
        Binary mask.
    extraction_plan_ : ExtractionPlan or None
        Region operators for the fit grid (None when fitted without grid).
    clean_args_ : dict
        Merged ``clean_args`` and ``clean__*`` arguments.

    Examples
    --------
    >>> import numpy as np, nibabel as nib
    >>> from regionkit.maskers import NiftiSpheresMasker
    >>> img = nib.Nifti1Image(np.ones((5, 5, 5, 3), np.float32), np.eye(4))
    >>> NiftiSpheresMasker([(2, 2, 2)], radius=1).fit_transform(img).shape
    (3, 1)
    """

    _parameter_constraints = {
        **BASE_PARAMETER_CONSTRAINTS,
        "radius": [None, Interval("real", 0, None, closed="left")],
        "mask_img": [None, _is_niimg_like],
        "allow_overlap": ["boolean"],
        "agg_func": [_is_agg_func],
        "allow_empty": ["boolean"],
        "seeds": "no_validation",
    }

    def __init__(
        self,
        seeds,
        radius=None,
        mask_img=None,
        allow_overlap=False,
        smoothing_fwhm=None,
        standardize=False,
        standardize_confounds=True,
        high_variance_confounds=False,
        detrend=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        dtype=None,
        memory=None,
        memory_level=1,
        verbose=0,
        reports=True,
        clean_args=None,
        agg_func=np.mean,
        allow_empty=False,
        **kwargs,
    ):
        self.seeds = seeds
        self.radius = radius
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
        self.memory = memory
        self.memory_level = memory_level
        self.verbose = verbose
        self.reports = reports
        self.clean_args = clean_args
        self.agg_func = agg_func
        self.allow_empty = allow_empty
        self._store_clean_kwargs(kwargs)

    # ----------------------------------------------------------------- hooks
    def _aggregation_names(self) -> list[str]:
        return [a.name for a in parse_aggregations(self.agg_func)]

    def _fit_regions(self, img) -> None:
        self.seeds_ = check_seeds(self.seeds)
        self.n_elements_ = len(self.seeds_)
        parse_aggregations(self.agg_func)
        if img is not None:
            shape, affine = img.shape[:3], img.affine
        elif self.mask_img_ is not None:
            shape, affine = self.mask_img_.shape[:3], self.mask_img_.affine
        else:
            shape = affine = None
        if shape is None:
            self.extraction_plan_ = None
            self.region_coverage_ = np.full(self.n_elements_, np.nan)
            return
        self.extraction_plan_, coverage = self._build_plan(shape, affine)
        self.region_coverage_ = coverage

    def _grid_mask(self, shape, affine):
        if self.mask_img_ is None:
            return None
        mask_img = self.mask_img_
        if tuple(mask_img.shape[:3]) != tuple(shape) or not np.allclose(
            mask_img.affine, affine, rtol=0, atol=1e-6
        ):
            mask_img = resample_to_grid(mask_img, shape, affine, "nearest")
        return np.asarray(mask_img.dataobj).astype(bool)

    def _build_plan(self, shape, affine):
        shape = tuple(int(s) for s in shape[:3])
        affine = np.asarray(affine, dtype=np.float64)
        mask = self._grid_mask(shape, affine)
        seeds = np.asarray(self.seeds_, dtype=np.float64)
        selection = select_sphere_voxels(seeds, self.radius, shape, affine, mask)
        empty = selection.empty
        if empty.size and not self.allow_empty:
            described = []
            for index in empty[:20]:
                where = (
                    "outside the image's field of view"
                    if selection.n_voxels_in_fov[index] == 0
                    else "outside the mask"
                )
                described.append(f"{_format_seed(seeds, index)} ({where})")
            more = "" if empty.size <= 20 else f" and {empty.size - 20} more"
            raise ValueError(
                f"These spheres are empty: {len(empty)} seed(s) have no voxel within "
                f"radius={self.radius} mm on the image grid of shape {shape}: "
                + ", ".join(described)
                + more
                + ". Move the seeds, enlarge the radius, or pass allow_empty=True "
                "to get NaN columns."
            )
        if not self.allow_overlap:
            overlaps = find_overlaps(selection.voxels)
            if overlaps:
                listed = ", ".join(
                    f"{_format_seed(seeds, a)} and {_format_seed(seeds, b)}"
                    for a, b in overlaps[:10]
                )
                more = "" if len(overlaps) <= 10 else f" and {len(overlaps) - 10} more pairs"
                raise ValueError(
                    f"Overlap detected between spheres (radius={self.radius} mm): seeds "
                    f"{listed}{more} share voxels. Pass allow_overlap=True to allow it."
                )
        union, positions = union_positions(selection.voxels)
        aggregations = parse_aggregations(self.agg_func)
        operator = (
            mean_operator(positions, len(union))
            if any(a.kind == "linear" for a in aggregations)
            else None
        )
        plan = ExtractionPlan(
            shape=shape,
            affine=affine,
            union=union,
            positions=positions,
            aggregations=aggregations,
            nonfinite=NONFINITE_ALWAYS if mask is not None else NONFINITE_IF_NAN,
            operator=operator,
            empty_regions=empty,
        )
        return plan, selection.coverage

    def _plan_for_grid(self, shape, affine) -> ExtractionPlan:
        plan = getattr(self, "extraction_plan_", None)
        if plan is not None and plan.matches(shape, affine):
            return plan
        logger.debug("%s: building sphere operators for grid %s", type(self).__name__, shape)
        return self._build_plan(shape, affine)[0]

    def _check_empty_regions(self, plan: ExtractionPlan) -> None:
        if plan.empty_regions.size:
            listed = ", ".join(_format_seed(self.seeds_, i) for i in plan.empty_regions)
            warnings.warn(
                f"{type(self).__name__}: {plan.empty_regions.size} sphere(s) hold no voxel "
                f"inside the image and mask; their columns come from agg_func applied to "
                f"an empty array (NaN for the mean): seeds {listed}.",
                EmptyRegionWarning,
                stacklevel=4,
            )

    def _inverse_voxel_signals(self, signals_2d):
        if self.mask_img_ is None:
            raise ValueError(
                "Please provide mask_img at initialization to provide a reference for "
                "the inverse_transform (mask_img is None)."
            )
        shape = self.mask_img_.shape[:3]
        affine = self.mask_img_.affine
        plan = self._plan_for_grid(shape, affine)
        n_voxels = int(np.prod(shape))
        counts = np.zeros(len(plan.union), dtype=np.float64)
        for positions in plan.positions:
            counts[positions] += 1
        scale = 1.0 / np.maximum(counts, 1.0) if self.allow_overlap else np.ones_like(counts)
        flat = np.zeros((signals_2d.shape[0], n_voxels), dtype=np.float64)
        gathered = np.zeros((signals_2d.shape[0], len(plan.union)), dtype=np.float64)
        for region, positions in enumerate(plan.positions):
            gathered[:, positions] += signals_2d[:, [region]]
        flat[:, plan.union] = gathered * scale
        volumes = flat.reshape(signals_2d.shape[0], shape[2], shape[1], shape[0]).transpose(
            3, 2, 1, 0
        )
        return volumes, affine


class JuniferNiftiSpheresMasker(NiftiSpheresMasker):
    """:class:`NiftiSpheresMasker` with junifer 0.0.8's signature and defaults.

    Empty spheres are allowed (``allow_empty=True``), ``standardize=None`` and
    ``reports=False`` by default, and the first parameters follow junifer's
    order ``(seeds, radius, mask_img, agg_func, allow_overlap, dtype)``, so a
    junifer user switches by changing the import. See
    :class:`NiftiSpheresMasker` for the parameters.
    """

    def __init__(
        self,
        seeds,
        radius=None,
        mask_img=None,
        agg_func: Callable = np.mean,
        allow_overlap=False,
        dtype=None,
        smoothing_fwhm=None,
        standardize=None,
        standardize_confounds=True,
        high_variance_confounds=False,
        detrend=False,
        low_pass=None,
        high_pass=None,
        t_r=None,
        memory=None,
        memory_level=1,
        verbose=0,
        reports=False,
        clean_args=None,
        allow_empty=True,
        **kwargs,
    ):
        super().__init__(
            seeds,
            radius=radius,
            mask_img=mask_img,
            allow_overlap=allow_overlap,
            smoothing_fwhm=smoothing_fwhm,
            standardize=standardize,
            standardize_confounds=standardize_confounds,
            high_variance_confounds=high_variance_confounds,
            detrend=detrend,
            low_pass=low_pass,
            high_pass=high_pass,
            t_r=t_r,
            dtype=dtype,
            memory=memory,
            memory_level=memory_level,
            verbose=verbose,
            reports=reports,
            clean_args=clean_args,
            agg_func=agg_func,
            allow_empty=allow_empty,
            **kwargs,
        )
