"""Atlases named on the command line, turned into fitted maskers once per grid.

A fitted masker holds the atlas resampled to a run's grid and its extraction
operator. It is built once per (atlas, parameters, grid), stored on disk under
a content hash (of the atlas files, the masker's parameters, the grid and the
regionkit version) and reused by every run and every worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..._version import __version__

logger = logging.getLogger(__name__)

__all__ = [
    "BUILTIN_SPHERES",
    "AGGREGATIONS",
    "AtlasSpec",
    "ExtractionTarget",
    "build_targets",
    "fit_targets",
    "sha256_file",
]

#: Built-in coordinate atlases: CLI name -> regionkit.datasets loader.
BUILTIN_SPHERES = {
    "power264": "load_power_2011",
    "dosenbach160": "load_dosenbach_2010",
    "seitzman300": "load_seitzman_2018",
}
#: --agg names -> (spheres agg_func, labels strategy).
AGGREGATIONS = {
    "mean": ("mean", "mean"),
    "median": ("median", "median"),
    "std": ("std", "standard_deviation"),
    "sum": (None, "sum"),
    "min": (None, "minimum"),
    "max": (None, "maximum"),
    "var": (None, "variance"),
    "eigenvariate": ("eigenvariate", None),
}


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _bids_label(text: str) -> str:
    label = re.sub(r"[^A-Za-z0-9]", "", text)
    return label or "atlas"


@dataclass
class AtlasSpec:
    """One atlas of the command line.

    Attributes
    ----------
    kind : {"spheres", "labels", "maps"}
    source : str
        Built-in name (spheres) or file path.
    name : str
        The ``atlas-<name>`` label of the outputs.
    lut : str, optional
        Look-up table (labels atlases).
    """

    kind: str
    source: str
    name: str
    lut: str | None = None

    def identity(self) -> dict:
        """What makes this atlas what it is (files by content)."""
        ident = {"kind": self.kind, "name": self.name}
        if self.kind == "spheres" and self.source in BUILTIN_SPHERES:
            ident["builtin"] = self.source
        else:
            ident["file"] = Path(self.source).name
            ident["sha256"] = sha256_file(self.source)
        if self.lut:
            ident["lut"] = Path(self.lut).name
            ident["lut_sha256"] = sha256_file(self.lut)
        return ident


def make_spec(kind: str, source: str, lut: str | None = None) -> AtlasSpec:
    """An :class:`AtlasSpec` with its output name; files must exist."""
    if kind == "spheres" and source in BUILTIN_SPHERES:
        return AtlasSpec(kind, source, source)
    path = Path(source)
    if not path.is_file():
        known = ", ".join(BUILTIN_SPHERES) if kind == "spheres" else ""
        extra = f" or one of {known}" if known else ""
        raise ValueError(f"--{kind} {source!r} is not an existing file{extra}.")
    if lut is not None and not Path(lut).is_file():
        raise ValueError(f"--lut {lut!r} is not an existing file.")
    stem = path.name.split(".", 1)[0]
    # BIDS-named atlas files: use their atlas-/seg- entity when present.
    match = re.search(r"(?:atlas|seg)-([A-Za-z0-9]+)", stem)
    return AtlasSpec(kind, str(path.resolve()), _bids_label(match.group(1) if match else stem), lut)


def _read_sphere_table(path: str) -> tuple[np.ndarray, list[str]]:
    table = pd.read_csv(path, sep="\t")
    missing = [c for c in ("x", "y", "z") if c not in table.columns]
    if missing:
        raise ValueError(
            f"Spheres file {path!r} needs columns x, y, z (MNI mm); it lacks {missing}."
        )
    for column in ("name", "label", "region"):
        if column in table.columns:
            names = [str(v) for v in table[column]]
            break
    else:
        names = [f"region{i + 1:03d}" for i in range(len(table))]
    return table[["x", "y", "z"]].to_numpy(dtype=float), names


def sphere_seeds(source: str) -> tuple[np.ndarray, list[str]]:
    """Seeds (n, 3) in mm and region names of a built-in name or TSV file."""
    if source in BUILTIN_SPHERES:
        from ... import datasets

        bunch = getattr(datasets, BUILTIN_SPHERES[source])()
        return np.asarray(bunch.seeds, dtype=float), [str(label) for label in bunch.labels]
    return _read_sphere_table(source)


@dataclass
class ExtractionTarget:
    """One output kind per run: an atlas with one statistic.

    Attributes
    ----------
    key : str
        ``"<atlas>/<stat>"``, unique on a command line.
    atlas : AtlasSpec
    stat : str
        ``stat-<stat>`` of the output names.
    masker : estimator
        Unfitted masker.
    region_names : list of str or None
        Column names when the CLI knows them (coordinate atlases).
    identity : dict
        JSON-able description, part of the output sidecar and cache key.
    """

    key: str
    atlas: AtlasSpec
    stat: str
    masker: object
    region_names: list | None
    identity: dict = field(default_factory=dict)


def _aggregation(agg: str, column: int, applies_to: str):
    """Column ``column`` of ``AGGREGATIONS[agg]`` (0: spheres' agg_func, 1: labels'
    strategy); ValueError naming the valid choices when it is None."""
    value = AGGREGATIONS[agg][column]
    if value is None:
        raise ValueError(
            f"--agg {agg!r} does not apply to {applies_to}; use one of "
            f"{[k for k, v in AGGREGATIONS.items() if v[column]]}."
        )
    return value


def build_targets(specs: list[AtlasSpec], aggs: list[str], radius: float,
                  allow_overlap: bool, masker_params: dict) -> list[ExtractionTarget]:
    """One unfitted masker per (atlas, statistic).

    Parameters
    ----------
    specs : list of AtlasSpec
    aggs : list of str
        Keys of :data:`AGGREGATIONS`; each applies to spheres and labels
        atlases (maps atlases give one least-squares output, ``stat-coef``).
    radius : float
        Sphere radius in mm.
    allow_overlap : bool
        Let spheres overlap.
    masker_params : dict
        Cleaning parameters shared by every masker (detrend, standardize, ...).
    """
    from ... import maskers

    targets = []
    for spec in specs:
        ident = spec.identity()
        if spec.kind == "spheres":
            seeds, names = sphere_seeds(spec.source)
            for agg in aggs:
                agg_func = _aggregation(agg, 0, "spheres")
                func = getattr(np, agg_func) if agg_func in ("mean", "median", "std") else agg_func
                kwargs = dict(masker_params)
                if agg != "mean":
                    kwargs["agg_func"] = func
                masker = maskers.NiftiSpheresMasker(
                    seeds, radius=radius, allow_overlap=allow_overlap, **kwargs
                )
                targets.append(ExtractionTarget(
                    f"{spec.name}/{agg}", spec, agg, masker, names,
                    {**ident, "radius": radius, "allow_overlap": allow_overlap, "agg": agg},
                ))
        elif spec.kind == "labels":
            for agg in aggs:
                strategy = _aggregation(agg, 1, "--labels atlases")
                kwargs = dict(masker_params, labels_img=spec.source, strategy=strategy,
                              resampling_target="data")
                if spec.lut:
                    kwargs["lut"] = spec.lut
                masker = maskers.NiftiLabelsMasker(**kwargs)
                targets.append(ExtractionTarget(
                    f"{spec.name}/{agg}", spec, agg, masker, None, {**ident, "agg": agg}
                ))
        else:
            masker = maskers.NiftiMapsMasker(
                maps_img=spec.source, resampling_target="data", **masker_params
            )
            targets.append(ExtractionTarget(
                f"{spec.name}/coef", spec, "coef", masker, None, {**ident, "agg": "lstsq"}
            ))
    keys = [t.key for t in targets]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(
            f"Two atlases share the output name(s) {duplicates}; rename one of the files."
        )
    return targets


def _grid_image(shape: tuple, affine: np.ndarray):
    import nibabel as nib

    return nib.Nifti1Image(np.zeros(shape[:3], dtype=np.float32), affine)


def _cache_key(target: ExtractionTarget, shape: tuple, affine: np.ndarray) -> str:
    params = target.masker.get_params(deep=False)
    digest = hashlib.sha256()
    digest.update(json.dumps(target.identity, sort_keys=True).encode())
    digest.update(pickle.dumps(sorted((k, repr(v) if not isinstance(v, np.ndarray) else v.tobytes())
                                      for k, v in params.items())))
    digest.update(json.dumps([list(shape[:3]), np.round(affine, 6).tolist()]).encode())
    digest.update(__version__.encode())
    digest.update(type(target.masker).__qualname__.encode())
    return digest.hexdigest()[:32]


def _write_atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.regionkit-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def fit_targets(targets: list[ExtractionTarget], shape: tuple, affine: np.ndarray,
                cache_dir: Path | None) -> dict:
    """Fitted maskers for one grid: ``{target.key: fitted masker}``.

    Loaded from ``cache_dir`` when a masker with the same content hash was
    fitted before; otherwise fitted on an empty image of the grid and stored.
    """
    from sklearn.base import clone

    fitted = {}
    reference = None
    for target in targets:
        path = None
        if cache_dir is not None:
            path = Path(cache_dir) / f"{target.atlas.name}_{target.stat}_{_cache_key(target, shape, affine)}.pkl"
            if path.is_file():
                try:
                    with open(path, "rb") as handle:
                        fitted[target.key] = pickle.load(handle)
                    logger.info("operator cache hit: %s", path.name)
                    continue
                except Exception:  # a damaged cache entry is rebuilt
                    logger.warning("unreadable operator cache %s: rebuilding", path)
        if reference is None:
            reference = _grid_image(shape, affine)
        masker = clone(target.masker).fit(reference)
        fitted[target.key] = masker
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic_bytes(path, pickle.dumps(masker, protocol=pickle.HIGHEST_PROTOCOL))
    return fitted
