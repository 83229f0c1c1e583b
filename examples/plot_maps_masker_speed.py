"""
Probabilistic maps (DiFuMo-like): how time and memory grow with the run
=======================================================================

Soft, overlapping maps such as DiFuMo's are extracted by least squares: each
volume is explained as a weighted sum of the maps, and the weights are the
signals. regionkit builds that projection once at ``fit``, then streams the
run from disk in chunks of volumes, so time grows with the number of volumes
while memory does not.

This example times :class:`~regionkit.maskers.NiftiMapsMasker` on gzipped runs
of increasing length and records the peak memory allocated during
``transform``. It runs regionkit only; the side-by-side comparison with nilearn
on a full-size run (MNI 2 mm, 300 volumes) is in the :doc:`/benchmarks` table,
produced by ``benchmarks/run.py``.
"""

import tempfile
import time
import tracemalloc
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np

from regionkit.datasets import load_mni152_brain_mask
from regionkit.maskers import NiftiMapsMasker

# %%
# 128 soft, overlapping maps
# --------------------------
# Gaussian blobs (sigma 6-12 mm) centred at random brain voxels, cut to the
# brain: a small stand-in for an atlas of probabilistic components.
mask_img = load_mni152_brain_mask(resolution=4)
in_brain = np.asarray(mask_img.dataobj) > 0
ijk = np.argwhere(in_brain)
xyz = nib.affines.apply_affine(mask_img.affine, ijk)
rng = np.random.default_rng(0)
n_maps = 128
centres = xyz[rng.choice(len(xyz), n_maps, replace=False)]
sigmas = rng.uniform(6, 12, n_maps)
maps = np.zeros(mask_img.shape + (n_maps,), dtype=np.float32)
for k in range(n_maps):
    weight = np.exp(-np.sum((xyz - centres[k]) ** 2, axis=1) / (2 * sigmas[k] ** 2))
    weight[weight < 0.05] = 0
    maps[tuple(ijk.T) + (k,)] = weight
maps_img = nib.Nifti1Image(maps, mask_img.affine)
print(f"maps: {maps_img.shape}, {np.count_nonzero(maps)} non-zero weights")

# %%
# Gzipped runs of 75 to 300 volumes
# ---------------------------------
# Each run is the maps mixed by random time courses plus noise, saved as
# ``.nii.gz`` as fMRIPrep writes them.
workdir = Path(tempfile.mkdtemp(prefix="regionkit-maps-"))
lengths = [75, 150, 300]
paths = {}
for n_volumes in lengths:
    mixing = rng.standard_normal((n_maps, n_volumes)).astype(np.float32)
    run = np.zeros(mask_img.shape + (n_volumes,), dtype=np.float32)
    run[in_brain] = maps[in_brain] @ mixing
    run[in_brain] += 0.1 * rng.standard_normal((in_brain.sum(), n_volumes), dtype=np.float32)
    paths[n_volumes] = workdir / f"run-{n_volumes}_bold.nii.gz"
    nib.save(nib.Nifti1Image(run, mask_img.affine), paths[n_volumes])
    del run

masker = NiftiMapsMasker(maps_img, mask_img=mask_img, standardize="zscore_sample")
start = time.perf_counter()
masker.fit()
fit_seconds = time.perf_counter() - start
print(f"fit (projection built once): {fit_seconds:.2f} s")

# %%
# Time and peak memory of ``transform``
# -------------------------------------
# ``tracemalloc`` sees numpy's allocations, so its peak is the most memory the
# extraction itself held at once (the interpreter and libraries excluded).
seconds, peaks_mib, raw_mib = [], [], []
for n_volumes in lengths:
    tracemalloc.start()
    start = time.perf_counter()
    signals = masker.transform(paths[n_volumes])
    seconds.append(time.perf_counter() - start)
    peaks_mib.append(tracemalloc.get_traced_memory()[1] / 2**20)
    tracemalloc.stop()
    raw_mib.append(np.prod(mask_img.shape) * n_volumes * 4 / 2**20)
    print(f"{n_volumes:4d} volumes: signals {signals.shape}, {seconds[-1]:.2f} s, "
          f"peak {peaks_mib[-1]:.0f} MiB (the run is {raw_mib[-1]:.0f} MiB as float32)")

fig, (ax_time, ax_memory) = plt.subplots(1, 2, figsize=(10, 3.8))
ax_time.plot(lengths, seconds, "o-", color="C0")
ax_time.set_xlabel("volumes in the run")
ax_time.set_ylabel("transform time (s)")
ax_time.set_title("time grows with the run")
ax_memory.plot(lengths, raw_mib, "s--", color="0.6", label="whole run as float32")
ax_memory.plot(lengths, peaks_mib, "o-", color="C3", label="peak during transform")
ax_memory.set_xlabel("volumes in the run")
ax_memory.set_ylabel("MiB")
ax_memory.set_title("memory does not")
ax_memory.legend()
fig.tight_layout()
plt.show()

for path in paths.values():
    path.unlink()
workdir.rmdir()
