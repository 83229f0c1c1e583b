"""Report builders: read a fitted estimator, return a :class:`ReportContent`.

Builders read fitted attributes only (``seeds_``, ``mask_img_``, ``labels_img_``,
``lut_``, ``maps_img_``, ``regions_img_``, ``index_``...) plus the optional
``_report_extras`` dict an estimator may fill during ``fit`` (see
:func:`regionkit.reporting.make_report`). They never keep a reference to
anything they read: the returned content holds strings and numbers only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._figures import (
    Canvas,
    LabelLayer,
    ScalarLayer,
    SphereLayer,
    densest_cut,
    glass_figure,
    label_colors,
    make_canvas,
    orthogonal_figure,
)
from ._html import Figure, RegionTable, ReportContent
from ._regions import label_statistics, map_statistics, sphere_statistics

logger = logging.getLogger(__name__)

#: Regions keeping less than this fraction of their voxels (inside the mask and
#: the field of view) are flagged as clipped.
MIN_COVERAGE = 0.8

_OK_COLOR = (0.10, 0.80, 0.25)
_CLIPPED_COLOR = (1.00, 0.70, 0.00)
_EMPTY_COLOR = (0.90, 0.15, 0.10)
_IMAGE_SUFFIXES = (".nii", ".nii.gz", ".img", ".hdr", ".mgz", ".gii", ".gii.gz")


# ----------------------------------------------------------------------------------
# small readers


def _array(img: Any, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Voxel data and affine of an image or a path to one."""
    if isinstance(img, (str, Path)):
        import nibabel

        img = nibabel.load(img)
    return np.asarray(img.dataobj, dtype=dtype), np.asarray(img.affine, dtype=float)


def _extras(estimator: Any) -> Mapping[str, Any]:
    extras = getattr(estimator, "_report_extras", None)
    return extras if isinstance(extras, Mapping) else {}


def _image_name(value: Any) -> str | None:
    if isinstance(value, (str, Path)) and str(value).lower().endswith(_IMAGE_SUFFIXES):
        return str(value)
    get_filename = getattr(value, "get_filename", None)
    if callable(get_filename):
        return get_filename() or None
    return None


def input_names(estimator: Any, parameters: Mapping[str, Any]) -> list[str]:
    """File names of the image parameters and of the images seen at fit."""
    names = []
    for name in sorted(parameters):
        file_name = _image_name(parameters[name])
        if file_name:
            names.append(f"{name}: {file_name}")
    names.extend(f"fit: {n}" for n in _extras(estimator).get("input_files", ()))
    return names


def region_names(estimator: Any, n_regions: int, prefix: str) -> list[str]:
    """Names from ``region_names_`` (dict or sequence) or ``'<prefix> <i>'``."""
    try:
        names = getattr(estimator, "region_names_", None)
    except Exception:  # a property that needs more than the builder knows
        names = None
    if isinstance(names, Mapping) and len(names) == n_regions:
        return [str(names[k]) for k in sorted(names)]
    if isinstance(names, Sequence) and not isinstance(names, str) and len(names) == n_regions:
        return [str(n) for n in names]
    return [f"{prefix} {i}" for i in range(n_regions)]


def background_canvas(estimator: Any) -> Canvas:
    """The mean image seen at fit when recorded, else the bundled MNI template."""
    background = _extras(estimator).get("background_img")
    if background is not None:
        data, affine = _array(background)
        return make_canvas(data, affine, "mean image seen at fit")
    from ..datasets import load_mni152_template

    template = load_mni152_template()
    data, affine = _array(template)
    return make_canvas(data, affine, "MNI152 template")


def select_displayed(
    options: Mapping[str, Any], n_regions: int, name: str, kind: str
) -> tuple[list[int], list[str]]:
    """Positions of the regions to draw, and warnings about the request.

    ``options[name]`` was type-checked by :func:`check_displayed`; out-of-range
    requests are trimmed, as nilearn does, with a warning for the report when
    the user passed the option (``name in options["explicit"]``); the default
    (10) is trimmed silently.
    """
    displayed = options[name]
    messages = []
    if isinstance(displayed, str):  # "all"
        kept = list(range(n_regions))
    elif isinstance(displayed, (int, np.integer)):
        kept = list(range(min(int(displayed), n_regions)))
        if displayed > n_regions:
            messages.append(
                f"{name}={displayed} was requested but there are only {n_regions} "
                f"{kind}s: showing {n_regions}."
            )
    else:
        requested = [int(i) for i in displayed]
        kept = [i for i in requested if 0 <= i < n_regions]
        dropped = [i for i in requested if not 0 <= i < n_regions]
        if dropped:
            messages.append(
                f"{name} asked for {kind}s {dropped}, which do not exist "
                f"(there are {n_regions} {kind}s, numbered 0 to {n_regions - 1})."
            )
    if name not in options.get("explicit", ()):
        messages = []
    return kept, messages


def _status(n_voxels: np.ndarray, coverage: np.ndarray) -> list[str]:
    return [
        "empty" if n == 0 else "clipped" if c < MIN_COVERAGE else ""
        for n, c in zip(n_voxels, coverage, strict=True)
    ]


def _status_counts(status: Sequence[str]) -> tuple[int, int]:
    return sum(s == "empty" for s in status), sum(s == "clipped" for s in status)


def _figure(canvas_result: tuple[str, int, int], caption: str, position=None) -> Figure:
    data_uri, width, height = canvas_result
    return Figure(data_uri, caption, width, height, position)


def _coverage(n_kept: np.ndarray, n_total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_total > 0, n_kept / np.maximum(n_total, 1), 0.0)


def _mask_on_grid(
    mask_img: Any, shape: tuple[int, ...], affine: np.ndarray
) -> np.ndarray | None:
    """The mask as a boolean array on another grid (nearest neighbour)."""
    if mask_img is None:
        return None
    from ._figures import sample_volume

    mask, mask_affine = _array(mask_img)
    if mask.shape[:3] == tuple(shape[:3]) and np.allclose(mask_affine, affine):
        return mask != 0
    points = np.indices(shape[:3]).reshape(3, -1).T @ affine[:3, :3].T + affine[:3, 3]
    return (sample_volume(mask, mask_affine, points) != 0).reshape(shape[:3])


# ----------------------------------------------------------------------------------
# builders


@dataclass(frozen=True)
class Builder:
    """How to report one kind of estimator.

    Attributes
    ----------
    required : tuple of str
        Fitted attributes that must exist; without them the report says the
        estimator is not fitted.
    options : dict
        Keyword arguments ``generate_report`` accepts, with their defaults.
    build : callable
        ``build(estimator, content, canvas, options)`` fills ``content``.
    """

    required: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    build: Callable[..., None] = lambda *args: None


def build_spheres(estimator: Any, content: ReportContent, canvas: Canvas, options) -> None:
    """Spheres: a glass view of every seed, then one figure per displayed sphere."""
    seeds = np.asarray(estimator.seeds_, dtype=float).reshape(-1, 3)
    radius = getattr(estimator, "radius", None)
    radius_mm = 0.0 if radius is None else float(radius)
    mask_img = getattr(estimator, "mask_img_", None)
    plan = getattr(estimator, "extraction_plan_", None)
    extras = _extras(estimator)
    mask = None
    if plan is not None and hasattr(plan, "shape") and hasattr(plan, "affine"):
        grid_shape, grid_affine = tuple(plan.shape)[:3], np.asarray(plan.affine, dtype=float)
        grid_name = "image (or mask) seen at fit"
        mask = _mask_on_grid(mask_img, grid_shape, grid_affine)
    elif mask_img is not None:
        mask, grid_affine = _array(mask_img)
        grid_shape, grid_name = mask.shape[:3], "mask_img_"
    elif extras.get("grid") is not None:
        grid_shape, grid_affine = extras["grid"]
        grid_shape, grid_name = tuple(grid_shape)[:3], "image seen at fit"
        grid_affine = np.asarray(grid_affine, dtype=float)
    else:
        grid_shape, grid_affine = canvas.data.shape, canvas.affine
        grid_name = f"{canvas.name} (no image or mask seen at fit)"
    n_voxels, n_full = sphere_statistics(seeds, radius, grid_shape, grid_affine, mask)
    positions = getattr(plan, "positions", None)
    if positions is not None and len(positions) == len(seeds):
        # the masker's own selection is the truth; ours only gives the full size
        n_voxels = np.array([len(p) for p in positions], dtype=np.int64)
    coverage = _coverage(n_voxels, n_full)
    status = _status(n_voxels, coverage)
    names = region_names(estimator, len(seeds), "sphere")
    n_empty, n_clipped = _status_counts(status)
    displayed, messages = select_displayed(
        options, len(seeds), "displayed_spheres", "sphere"
    )
    content.warnings += messages
    content.raised += messages

    content.description = (
        f"{len(seeds)} spheres of radius {radius_mm:g} mm. Voxel counts are on the grid of "
        f"the {grid_name}; a sphere is clipped when it keeps less than "
        f"{MIN_COVERAGE:.0%} of its voxels inside the field of view and mask."
    )
    content.summary += [
        ("spheres", len(seeds)),
        ("radius (mm)", f"{radius_mm:g}"),
        ("empty spheres", n_empty),
        ("clipped spheres", n_clipped),
        ("voxel grid", grid_name),
        ("background", canvas.name),
    ]
    content.regions = RegionTable(
        columns=["#", "name", "centre (mm)", "voxels", "full sphere", "coverage (%)"],
        rows=[
            {
                "#": i,
                "name": names[i],
                "centre (mm)": seeds[i],
                "voxels": int(n_voxels[i]),
                "full sphere": int(n_full[i]),
                "coverage (%)": 100.0 * coverage[i],
            }
            for i in range(len(seeds))
        ],
        status=status,
        numeric_columns=frozenset({"#", "voxels", "full sphere", "coverage (%)"}),
    )
    colors = np.array(
        [{"empty": _EMPTY_COLOR, "clipped": _CLIPPED_COLOR}.get(s, _OK_COLOR) for s in status]
    )
    disc_pixels = float(np.clip(max(radius_mm, 2.0) / canvas.pitch, 2.0, 12.0))
    content.figures.append(
        _figure(
            glass_figure(canvas, seeds, colors, disc_pixels),
            f"All {len(seeds)} spheres (green: kept, amber: clipped, red: empty)",
        )
    )
    mask_affine = grid_affine if mask is not None else None
    for i in displayed:
        layer = SphereLayer(seeds[i], radius_mm, tuple(colors[i]), mask, mask_affine)
        caption = (
            f"sphere {i}: {names[i]} at ({seeds[i][0]:.1f}, {seeds[i][1]:.1f}, "
            f"{seeds[i][2]:.1f}) mm, {int(n_voxels[i])} voxels"
        )
        content.figures.append(
            _figure(orthogonal_figure(canvas, seeds[i], [layer], seeds[i:i + 1]), caption, i)
        )
    content.figures_caption = (
        f"Showing {len(displayed)} of {len(seeds)} spheres on the "
        f"{canvas.name}. Use the buttons (or click a table row) to step through them."
    )


def _labels_from_estimator(estimator: Any, labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Label values and names, from ``lut_`` when present, else the image."""
    background = getattr(estimator, "background_label", 0)
    lut = getattr(estimator, "lut_", None)
    if lut is not None and hasattr(lut, "columns") and {"index", "name"} <= set(lut.columns):
        table = lut[lut["index"] != background]
        return np.asarray(table["index"], dtype=np.int64), [str(n) for n in table["name"]]
    values = np.unique(np.rint(labels).astype(np.int64))
    values = values[values != background]
    names = region_names(estimator, len(values), "region")
    if names[0:1] == ["region 0"]:
        names = [f"region {v}" for v in values]
    return values, names


def _report_labels(
    content: ReportContent,
    canvas: Canvas,
    labels: np.ndarray,
    affine: np.ndarray,
    values: np.ndarray,
    names: list[str],
    mask: np.ndarray | None,
    displayed: list[int],
    kind: str,
    estimator: Any = None,
) -> None:
    n_voxels, centers, n_in_mask = label_statistics(labels, affine, values, mask)
    coverage = _coverage(n_in_mask, n_voxels)
    fitted = _fitted_label_numbers(estimator, values)
    if fitted is not None:  # the masker's own voxels and coverage are the truth
        n_in_mask, coverage = fitted
    status = _status(n_in_mask, coverage)
    n_empty, n_clipped = _status_counts(status)
    voxel_volume = abs(np.linalg.det(affine[:3, :3]))
    content.summary += [
        (f"{kind}s", len(values)),
        (f"empty {kind}s", n_empty),
        (f"clipped {kind}s", n_clipped),
        ("voxel size (mm)", "x".join(f"{v:g}" for v in np.sqrt((affine[:3, :3] ** 2).sum(0)))),
        ("background", canvas.name),
    ]
    content.regions = RegionTable(
        columns=["#", "label", "name", "centre (mm)", "voxels", "volume (mm3)",
                 "coverage (%)"],
        rows=[
            {
                "#": i,
                "label": int(values[i]),
                "name": names[i],
                "centre (mm)": centers[i] if n_voxels[i] else None,
                "voxels": int(n_in_mask[i]),
                "volume (mm3)": float(n_in_mask[i] * voxel_volume),
                "coverage (%)": 100.0 * coverage[i],
            }
            for i in range(len(values))
        ],
        status=status,
        numeric_columns=frozenset({"#", "label", "voxels", "volume (mm3)", "coverage (%)"}),
        caption=(
            f"voxels: those the {kind} contributes (inside the mask); centre: its voxel "
            f"nearest to its centroid; coverage: share of its atlas voxels kept "
            f"(clipped below {MIN_COVERAGE:.0%})."
        ),
    )
    colors = label_colors(len(values))
    everything = LabelLayer(labels, affine, values, colors, alpha=0.7)
    content.figures.append(
        _figure(
            orthogonal_figure(canvas, densest_cut(labels, affine), [everything]),
            f"All {len(values)} {kind}s",
        )
    )
    faint = LabelLayer(labels, affine, values, colors, alpha=0.2)
    skipped = []
    for i in displayed:
        if n_voxels[i] == 0:
            skipped.append(i)
            continue
        highlight = LabelLayer(labels, affine, values[i:i + 1], np.array([_OK_COLOR]), 0.95)
        caption = (
            f"{kind} {i}: {names[i]} (label {int(values[i])}), {int(n_in_mask[i])} of "
            f"{int(n_voxels[i])} voxels used, centre ({centers[i][0]:.1f}, "
            f"{centers[i][1]:.1f}, {centers[i][2]:.1f}) mm"
        )
        content.figures.append(
            _figure(orthogonal_figure(canvas, centers[i], [faint, highlight]), caption, i)
        )
    content.figures_caption = (
        f"Showing {len(displayed) - len(skipped)} of {len(values)} {kind}s on the "
        f"{canvas.name}; the selected {kind} is green."
        + (f" No figure for {kind}s absent from the image: {skipped}." if skipped else "")
    )


def _fitted_label_numbers(
    estimator: Any, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Voxels and coverage per label from a fitted labels masker, in ``values`` order.

    Reads ``region_ids_`` (position -> label), ``extraction_plan_.positions`` and
    ``region_coverage_``; labels the masker dropped get 0 voxels and 0 coverage.
    None when the estimator does not expose them.
    """
    ids = getattr(estimator, "region_ids_", None)
    coverage = getattr(estimator, "region_coverage_", None)
    positions = getattr(getattr(estimator, "extraction_plan_", None), "positions", None)
    if not isinstance(ids, Mapping) or coverage is None or positions is None:
        return None
    order = [ids[k] for k in sorted(k for k in ids if k != "background")]
    if len(order) != len(positions) or len(order) != len(coverage):
        return None
    by_label = {
        int(label): (len(p), float(c))
        for label, p, c in zip(order, positions, coverage, strict=True)
    }
    n_used = np.array([by_label.get(int(v), (0, 0.0))[0] for v in values], dtype=np.int64)
    kept = np.array([by_label.get(int(v), (0, 0.0))[1] for v in values])
    return n_used, np.nan_to_num(kept)


def build_labels(estimator: Any, content: ReportContent, canvas: Canvas, options) -> None:
    """Labels: all regions, then one figure per displayed region."""
    labels, affine = _array(estimator.labels_img_)
    labels = np.rint(labels).astype(np.int32)
    values, names = _labels_from_estimator(estimator, labels)
    mask = _mask_on_grid(getattr(estimator, "mask_img_", None), labels.shape, affine)
    displayed, messages = select_displayed(
        options, len(values), "displayed_regions", "region"
    )
    content.warnings += messages
    content.raised += messages
    content.description = f"{len(values)} labelled regions."
    _report_labels(
        content, canvas, labels, affine, values, names, mask, displayed, "region", estimator
    )


def build_parcellations(estimator: Any, content: ReportContent, canvas: Canvas, options) -> None:
    """Parcellations: the parcels of ``labels_img_``, like a labels report."""
    labels, affine = _array(estimator.labels_img_)
    labels = np.rint(labels).astype(np.int32)
    values = np.unique(labels)
    values = values[values != 0]
    names = [f"parcel {v}" for v in values]
    mask_img = getattr(estimator, "mask_img_", None)
    if mask_img is None:  # nilearn keeps the mask on masker_ only
        mask_img = getattr(getattr(estimator, "masker_", None), "mask_img_", None)
    mask = _mask_on_grid(mask_img, labels.shape, affine)
    requested = getattr(estimator, "n_parcels", None)
    method = getattr(estimator, "method", None)
    content.description = f"{len(values)} parcels" + (f" from method {method!r}." if method else ".")
    if requested is not None and len(values) < requested:
        content.warnings.append(
            f"n_parcels={requested} was requested but the parcellation has {len(values)} "
            "parcels."
        )
    displayed, messages = select_displayed(
        options, len(values), "displayed_regions", "parcel"
    )
    content.warnings += messages
    content.raised += messages
    _report_labels(content, canvas, labels, affine, values, names, mask, displayed, "parcel")


def _report_maps(
    estimator: Any,
    content: ReportContent,
    canvas: Canvas,
    maps_img: Any,
    options: Mapping[str, Any],
    kind: str,
    source_index: np.ndarray | None = None,
) -> None:
    maps, affine = _array(maps_img)
    if maps.ndim == 3:
        maps = maps[..., None]
    n_maps = maps.shape[3]
    mask = _mask_on_grid(getattr(estimator, "mask_img_", None), maps.shape, affine)
    n_voxels, peaks, peak_values, n_in_mask, strongest = map_statistics(maps, affine, mask)
    coverage = _coverage(n_in_mask, n_voxels)
    # RegionExtractor composes a maps masker (masker_) that holds the coverage
    fitted = _fitted_map_coverage(getattr(estimator, "masker_", estimator), n_maps)
    if fitted is not None:  # the masker's own (|weight|-based) coverage is the truth
        coverage = fitted
        n_in_mask = np.where(coverage > 0, n_in_mask, 0)
    status = _status(n_in_mask, coverage)
    n_empty, n_clipped = _status_counts(status)
    names = region_names(estimator, n_maps, kind)
    displayed, messages = select_displayed(options, n_maps, "displayed_maps", kind)
    content.warnings += messages
    content.raised += messages
    content.description = f"{n_maps} {kind}s."
    content.summary += [
        (f"{kind}s", n_maps),
        (f"empty {kind}s", n_empty),
        (f"clipped {kind}s", n_clipped),
        ("background", canvas.name),
    ]
    columns = ["#", "name", "peak (mm)", "peak value", "nonzero voxels", "coverage (%)"]
    if source_index is not None:
        columns.insert(2, "source map")
    rows = []
    for i in range(n_maps):
        row = {
            "#": i,
            "name": names[i],
            "peak (mm)": peaks[i] if n_voxels[i] else None,
            "peak value": f"{peak_values[i]:.3g}",
            "nonzero voxels": int(n_voxels[i]),
            "coverage (%)": 100.0 * coverage[i],
        }
        if source_index is not None:
            row["source map"] = int(source_index[i])
        rows.append(row)
    content.regions = RegionTable(
        columns=columns,
        rows=rows,
        status=status,
        numeric_columns=frozenset({"#", "nonzero voxels", "coverage (%)", "source map"}),
        caption=(
            f"peak: largest absolute value; coverage: share of the {kind}'s weight kept "
            f"inside the mask (clipped below {MIN_COVERAGE:.0%})."
        ),
    )
    # overview: every voxel coloured by the map strongest there
    values = np.arange(1, n_maps + 1)
    overview = LabelLayer(strongest, affine, values, label_colors(n_maps), alpha=0.7)
    content.figures.append(
        _figure(
            orthogonal_figure(canvas, densest_cut(strongest, affine), [overview]),
            f"All {n_maps} {kind}s (each voxel coloured by its strongest {kind})",
        )
    )
    cmap = getattr(estimator, "cmap", None)
    cmap = cmap if isinstance(cmap, str) else "CMRmap_r"
    skipped = []
    for i in displayed:
        if n_voxels[i] == 0:
            skipped.append(i)
            continue
        one_map = np.ascontiguousarray(maps[..., i])
        vmax = float(np.abs(one_map).max())
        if one_map.min() < 0:
            layer = ScalarLayer(one_map, affine, "RdBu_r", -vmax, vmax)
        else:
            layer = ScalarLayer(one_map, affine, cmap, 0.0, vmax)
        caption = (
            f"{kind} {i}: {names[i]}, peak {peak_values[i]:.3g} at ({peaks[i][0]:.1f}, "
            f"{peaks[i][1]:.1f}, {peaks[i][2]:.1f}) mm, {int(n_voxels[i])} nonzero voxels"
        )
        content.figures.append(
            _figure(orthogonal_figure(canvas, peaks[i], [layer], peaks[i:i + 1]), caption, i)
        )
    content.figures_caption = (
        f"Showing {len(displayed) - len(skipped)} of {n_maps} {kind}s on the {canvas.name}."
        + (f" No figure for empty {kind}s {skipped}." if skipped else "")
    )


def _fitted_map_coverage(estimator: Any, n_maps: int) -> np.ndarray | None:
    """Per-map coverage from a fitted maps masker (``region_coverage_`` over the
    kept ``maps_indices_``; dropped maps get 0), or None when not exposed."""
    coverage = getattr(estimator, "region_coverage_", None)
    if coverage is None:
        return None
    coverage = np.nan_to_num(np.asarray(coverage, dtype=float))
    columns = getattr(estimator, "maps_indices_", None)
    if columns is None:
        return coverage if len(coverage) == n_maps else None
    columns = np.asarray(columns, dtype=np.int64)
    if len(columns) != len(coverage) or (len(columns) and columns.max() >= n_maps):
        return None
    full = np.zeros(n_maps)
    full[columns] = coverage
    return full


def build_maps(estimator: Any, content: ReportContent, canvas: Canvas, options) -> None:
    """Maps: all maps by strongest map, then one figure per displayed map."""
    _report_maps(estimator, content, canvas, estimator.maps_img_, options, "map")


def build_region_extractor(
    estimator: Any, content: ReportContent, canvas: Canvas, options
) -> None:
    """RegionExtractor: the extracted regions, with the map each came from."""
    index = np.asarray(getattr(estimator, "index_", None) if hasattr(estimator, "index_") else [])
    _report_maps(
        estimator,
        content,
        canvas,
        estimator.regions_img_,
        options,
        "region",
        index if index.size else None,
    )


def build_mask(estimator: Any, content: ReportContent, canvas: Canvas, options) -> None:
    """NiftiMasker: the mask over the background."""
    mask, affine = _array(estimator.mask_img_)
    mask = mask != 0
    n_voxels = int(mask.sum())
    voxel_volume = abs(np.linalg.det(affine[:3, :3]))
    content.description = f"A mask of {n_voxels} voxels."
    if n_voxels == 0:
        content.warnings.append("The mask is empty: no voxel will be extracted.")
    ijk = np.argwhere(mask)
    content.summary += [
        ("voxels in mask", n_voxels),
        ("volume (mm3)", f"{n_voxels * voxel_volume:.0f}"),
        ("grid shape", "x".join(str(s) for s in mask.shape)),
        ("voxel size (mm)", "x".join(f"{v:g}" for v in np.sqrt((affine[:3, :3] ** 2).sum(0)))),
        ("background", canvas.name),
    ]
    if n_voxels:
        low = ijk.min(axis=0) @ affine[:3, :3].T + affine[:3, 3]
        high = ijk.max(axis=0) @ affine[:3, :3].T + affine[:3, 3]
        content.summary.append(
            ("bounding box (mm)", f"({low[0]:.0f}, {low[1]:.0f}, {low[2]:.0f}) to "
             f"({high[0]:.0f}, {high[1]:.0f}, {high[2]:.0f})")
        )
    layer = LabelLayer(mask.astype(np.int8), affine, np.array([1]),
                       np.array([_EMPTY_COLOR]), alpha=0.45)
    cut = densest_cut(mask, affine)
    content.figures.append(
        _figure(orthogonal_figure(canvas, cut, [layer]), f"Mask ({n_voxels} voxels) in red")
    )


BUILDERS: dict[str, Builder] = {
    "NiftiSpheresMasker": Builder(("seeds_",), {"displayed_spheres": 10}, build_spheres),
    "NiftiLabelsMasker": Builder(("labels_img_",), {"displayed_regions": 10}, build_labels),
    "NiftiMapsMasker": Builder(("maps_img_",), {"displayed_maps": 10}, build_maps),
    "RegionExtractor": Builder(("regions_img_",), {"displayed_maps": 10},
                               build_region_extractor),
    "NiftiMasker": Builder(("mask_img_",), {}, build_mask),
    "Parcellations": Builder(("labels_img_",), {"displayed_regions": 10},
                             build_parcellations),
}
# Multi-subject variants report the same fitted attributes.
BUILDERS["MultiNiftiMasker"] = BUILDERS["NiftiMasker"]
BUILDERS["MultiNiftiLabelsMasker"] = BUILDERS["NiftiLabelsMasker"]
BUILDERS["MultiNiftiMapsMasker"] = BUILDERS["NiftiMapsMasker"]
