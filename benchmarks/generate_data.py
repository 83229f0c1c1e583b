"""Deterministic generator of realistic benchmark data.

Writes, into ``benchmarks/data/<mni2mm|quick>-<n_volumes>/`` by default:

- ``sub-01_task-rest_space-MNI152NLin6Asym_res-2_desc-preproc_bold.nii.gz``: a 4D
  float32 run on the MNI152 2 mm grid (91 x 109 x 91, affine diag(-2, 2, 2) with
  origin (90, -126, -72)), zero outside a brain-shaped mask; inside it a baseline
  intensity with smooth spatial variation, seven "networks" (pairs of smooth
  bilateral blobs) with slow shared time courses, AR(1) noise, slow drift and a
  small motion artefact.
- ``..._desc-confounds_timeseries.tsv``: the 24 motion regressors fMRIPrep writes
  (``trans_x`` .. ``rot_z``, their ``_derivative1``, ``_power2`` and
  ``_derivative1_power2``), with ``n/a`` in the first row of derivative columns.
- ``..._desc-brain_mask.nii.gz``: the uint8 mask.
- ``manifest.json``: parameters, shapes and file sizes.

The run is gzip-compressed at level 1 (nibabel's default) with a zero gzip
timestamp, one volume at a time, so memory stays at a few volumes and the bytes
are the same on every run for a given zlib. ``--quick`` writes a tiny 8 mm
version for smoke tests.

Usage::

    python benchmarks/generate_data.py                 # 300 volumes, ~1 GB raw
    python benchmarks/generate_data.py --n-volumes 100
    python benchmarks/generate_data.py --quick --out-dir /tmp/bench
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

logger = logging.getLogger("benchmarks.generate_data")

DEFAULT_DIR = Path(__file__).resolve().parent / "data"
PREFIX = "sub-01_task-rest_space-MNI152NLin6Asym_res-2"
BOLD_NAME = f"{PREFIX}_desc-preproc_bold.nii.gz"
MASK_NAME = f"{PREFIX}_desc-brain_mask.nii.gz"
CONFOUNDS_NAME = f"{PREFIX}_desc-confounds_timeseries.tsv"
MANIFEST_NAME = "manifest.json"

FULL_SHAPE = (91, 109, 91)
QUICK_SHAPE = (23, 28, 23)
T_R = 2.0
SEED = 20240601
MOTION_PARAMS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")


def mni_affine(voxel_size: float = 2.0) -> np.ndarray:
    """Return the MNI152 affine (x flipped) for isotropic ``voxel_size`` mm voxels."""
    affine = np.diag([-voxel_size, voxel_size, voxel_size, 1.0])
    affine[:3, 3] = [90.0, -126.0, -72.0]
    return affine


def brain_mask(shape: tuple[int, int, int]) -> np.ndarray:
    """A smooth brain-like mask: a cerebrum ellipsoid with a cerebellum below-behind.

    Parameters
    ----------
    shape : tuple of 3 int
        Grid shape (x, y, z).

    Returns
    -------
    mask : ndarray of bool, shape ``shape``
    """
    grid = np.stack(
        np.meshgrid(*(np.linspace(-1.0, 1.0, n) for n in shape), indexing="ij")
    )
    x, y, z = grid
    # Cerebrum: ellipsoid, slightly narrower at the front, flattened at the base.
    width = 0.86 - 0.08 * y
    cerebrum = (x / width) ** 2 + ((y - 0.02) / 0.9) ** 2 + ((z - 0.12) / 0.78) ** 2 < 1
    cerebrum &= z > -0.45 + 0.25 * np.clip(y, 0, None)
    cerebellum = (x / 0.6) ** 2 + ((y + 0.55) / 0.35) ** 2 + ((z + 0.5) / 0.3) ** 2 < 1
    mask = cerebrum | cerebellum
    # Two shallow bumps break the symmetry a little, like a real brain.
    mask &= ~(((x - 0.5) ** 2 + (y - 0.7) ** 2 + (z + 0.35) ** 2) < 0.04)
    return mask


def _smooth_field(rng, shape, sigma, mask):
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    field /= np.abs(field[mask]).max()
    return field


def _network_maps(rng, shape, mask, n_networks=7):
    """Bilateral pairs of smooth blobs, one map per network, values in [0, 1]."""
    inside = np.argwhere(mask)
    center = (np.array(shape) - 1) / 2.0
    sigma = max(shape) / 20.0
    maps = np.zeros((n_networks, *shape), dtype=np.float32)
    coords = np.indices(shape, dtype=np.float32)
    for k in range(n_networks):
        for _ in range(2):
            peak = inside[rng.integers(len(inside))].astype(np.float32)
            mirror = peak.copy()
            mirror[0] = 2 * center[0] - peak[0]
            for point in (peak, mirror):
                dist2 = sum((coords[i] - point[i]) ** 2 for i in range(3))
                maps[k] += np.exp(-dist2 / (2 * sigma**2)).astype(np.float32)
        maps[k] /= maps[k].max()
        maps[k][~mask] = 0.0
    return maps


def _slow_timecourses(rng, n_volumes, n_signals, phi=0.9):
    """Unit-variance AR(1) time courses with strong autocorrelation (slow)."""
    series = np.zeros((n_volumes, n_signals))
    innovations = rng.standard_normal((n_volumes, n_signals)) * np.sqrt(1 - phi**2)
    series[0] = rng.standard_normal(n_signals)
    for t in range(1, n_volumes):
        series[t] = phi * series[t - 1] + innovations[t]
    return series


def motion_parameters(rng, n_volumes: int) -> np.ndarray:
    """Six realistic motion parameters (mm and radians) as a random walk with spikes."""
    steps = rng.standard_normal((n_volumes, 6)) * np.array(
        [0.02, 0.03, 0.04, 0.0004, 0.0003, 0.0003]
    )
    spikes = rng.random(n_volumes) < 0.02
    steps[spikes] *= 8.0
    steps[0] = 0.0
    return np.cumsum(steps, axis=0)


def confounds_table(motion: np.ndarray) -> tuple[list[str], list[list[str]]]:
    """The 24 fMRIPrep motion columns; derivative columns start with ``n/a``.

    Parameters
    ----------
    motion : ndarray of shape (n_volumes, 6)

    Returns
    -------
    columns : list of str
    rows : list of list of str
        Formatted cells, ``"n/a"`` where fMRIPrep writes it.
    """
    derivative = np.vstack([np.full((1, 6), np.nan), np.diff(motion, axis=0)])
    columns, values = [], []
    for i, name in enumerate(MOTION_PARAMS):
        for suffix, column in (
            ("", motion[:, i]),
            ("_derivative1", derivative[:, i]),
            ("_derivative1_power2", derivative[:, i] ** 2),
            ("_power2", motion[:, i] ** 2),
        ):
            columns.append(name + suffix)
            values.append(column)
    table = np.column_stack(values)
    rows = [
        ["n/a" if np.isnan(cell) else f"{cell:.8g}" for cell in row] for row in table
    ]
    return columns, rows


def _header(shape, affine, dtype):
    header = nib.Nifti1Header()
    header.set_data_dtype(dtype)
    header.set_data_shape(shape)
    header.set_xyzt_units("mm", "sec")
    header.set_qform(affine, code=4)
    header.set_sform(affine, code=4)
    zooms = list(header.get_zooms())
    if len(shape) == 4:
        zooms[3] = T_R
    header.set_zooms(zooms)
    header["vox_offset"] = 352
    return header


def default_dir(n_volumes: int = 300, quick: bool = False) -> Path:
    """``benchmarks/data/<grid>-<n_volumes>``: one folder per configuration.

    Separate folders mean a ``--quick`` run never overwrites the full data that
    another benchmark may be reading.
    """
    return DEFAULT_DIR / f"{'quick' if quick else 'mni2mm'}-{n_volumes}"


def _write_gzip_nifti(path: Path, header, volumes) -> None:
    """Write header then each volume (Fortran order) through gzip level 1, mtime 0.

    The file appears under its name only once complete (written aside, renamed).
    """
    header_bytes = header.binaryblock + b"\x00\x00\x00\x00"
    partial = path.with_name(path.name + f".partial-{os.getpid()}")
    with open(partial, "wb") as raw, gzip.GzipFile(
        filename="", mode="wb", compresslevel=1, fileobj=raw, mtime=0
    ) as stream:
        stream.write(header_bytes)
        for volume in volumes:
            stream.write(np.asarray(volume, dtype=header.get_data_dtype()).tobytes("F"))
    os.replace(partial, path)


def generate(out_dir: Path, n_volumes: int = 300, quick: bool = False, force=False):
    """Write the run, mask, confounds and manifest into ``out_dir``.

    Parameters
    ----------
    out_dir : pathlib.Path
        Destination folder (created).
    n_volumes : int, default=300
        Number of volumes of the run.
    quick : bool, default=False
        Write a tiny 23 x 28 x 23 (8 mm) grid instead of the MNI 2 mm grid.
    force : bool, default=False
        Rewrite even when ``manifest.json`` says the same data are already there.

    Returns
    -------
    manifest : dict
        Parameters and absolute file paths.
    """
    if n_volumes < 2:
        raise ValueError(f"n_volumes must be >= 2, got {n_volumes}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shape = QUICK_SHAPE if quick else FULL_SHAPE
    voxel_size = 8.0 if quick else 2.0
    params = {"shape": list(shape), "n_volumes": n_volumes, "seed": SEED,
              "voxel_size": voxel_size, "t_r": T_R, "version": 1}
    manifest_path = out_dir / MANIFEST_NAME
    if manifest_path.exists() and not force:
        old = json.loads(manifest_path.read_text())
        if old.get("params") == params and all(
            Path(old["files"][key]).exists() for key in ("bold", "mask", "confounds")
        ):
            logger.info("data already present in %s, not regenerating", out_dir)
            return old

    rng = np.random.default_rng(SEED)
    affine = mni_affine(voxel_size)
    mask = brain_mask(shape)
    n_inside = int(mask.sum())
    maps = _network_maps(rng, shape, mask)[:, mask]  # (n_networks, n_inside)
    network_tc = _slow_timecourses(rng, n_volumes, len(maps))
    baseline = (700.0 + 200.0 * _smooth_field(rng, shape, 6.0, mask))[mask]
    drift_map = _smooth_field(rng, shape, 10.0, mask)[mask]
    edge = ndimage.gaussian_filter(mask.astype(float), 1.5)
    edge = (np.abs(np.stack(np.gradient(edge))).sum(axis=0))[mask]
    motion = motion_parameters(rng, n_volumes)
    frame = np.linspace(-1.0, 1.0, n_volumes)
    phi, noise_sd = 0.35, 0.012

    def volumes():
        noise = rng.standard_normal(n_inside).astype(np.float32)
        innovation_sd = np.float32(np.sqrt(1 - phi**2))
        volume = np.zeros(shape, dtype=np.float32)
        for t in range(n_volumes):
            if t:
                noise *= np.float32(phi)
                noise += innovation_sd * rng.standard_normal(n_inside, dtype=np.float32)
            signal = 1.0 + 0.02 * (network_tc[t] @ maps)
            signal += 0.01 * (frame[t] + 0.5 * frame[t] ** 2) * drift_map
            signal += 0.05 * (motion[t, 2] - motion[:, 2].mean()) * edge
            volume[mask] = baseline * signal + baseline * noise_sd * noise
            yield volume

    bold_path = out_dir / BOLD_NAME
    _write_gzip_nifti(bold_path, _header((*shape, n_volumes), affine, np.float32),
                      volumes())
    mask_path = out_dir / MASK_NAME
    _write_gzip_nifti(mask_path, _header(shape, affine, np.uint8),
                      [mask.astype(np.uint8)])
    columns, rows = confounds_table(motion)
    confounds_path = out_dir / CONFOUNDS_NAME
    confounds_path.write_text(
        "\t".join(columns) + "\n" + "".join("\t".join(row) + "\n" for row in rows)
    )
    manifest = {
        "params": params,
        "files": {"bold": str(bold_path), "mask": str(mask_path),
                  "confounds": str(confounds_path)},
        "bold_bytes_on_disk": bold_path.stat().st_size,
        "bold_bytes_raw": 352 + int(np.prod(shape)) * n_volumes * 4,
        "n_voxels_in_mask": n_inside,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    logger.info("wrote %s (%d bytes)", bold_path, manifest["bold_bytes_on_disk"])
    return manifest


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=None,
                        help="default: benchmarks/data/<mni2mm|quick>-<n_volumes>")
    parser.add_argument("--n-volumes", type=int, default=None,
                        help="volumes in the run (default 300, or 20 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny 8 mm grid for smoke tests")
    parser.add_argument("--force", action="store_true", help="regenerate anyway")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n_volumes = args.n_volumes or (20 if args.quick else 300)
    out_dir = args.out_dir or default_dir(n_volumes, args.quick)
    manifest = generate(out_dir, n_volumes=n_volumes, quick=args.quick,
                        force=args.force)
    sys.stdout.write(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
