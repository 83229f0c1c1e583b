"""
Regions from ICA-like maps
==========================

Independent component maps are signed, noisy, and often hold several
separate blobs: a "default mode" component lights up the precuneus and the
medial prefrontal cortex at once. :class:`~regionkit.regions.RegionExtractor`
thresholds each map, splits it into connected regions, drops the small ones,
and extracts one signal per region.

The maps here are generated: four components, each the sum of two or three
Gaussian blobs (one of them negative) plus noise, on the 4 mm MNI grid.
"""

import time

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np

from regionkit.datasets import load_mni152_brain_mask
from regionkit.regions import RegionExtractor

mask_img = load_mni152_brain_mask(resolution=4)
in_brain = np.asarray(mask_img.dataobj) > 0
ijk = np.argwhere(in_brain)
xyz = nib.affines.apply_affine(mask_img.affine, ijk)
rng = np.random.default_rng(3)

# (centre in mm, sigma in mm, sign) for each blob of each component
components = [
    [((0, -58, 36), 9, 1), ((0, 50, 0), 8, 1), ((-46, -66, 30), 6, 1)],   # default-mode-like
    [((-40, -24, 54), 8, 1), ((40, -24, 54), 8, 1)],                     # motor, bilateral
    [((-20, -90, 0), 8, 1), ((20, -90, 0), 8, 1), ((0, 10, 40), 7, -1)],  # visual, one negative
    [((-42, 20, 28), 7, 1), ((44, 22, 30), 7, 1)],                       # frontal
]
maps = np.zeros(mask_img.shape + (len(components),), dtype=np.float32)
for k, blobs in enumerate(components):
    values = 0.4 * rng.standard_normal(len(xyz))
    for centre, sigma, sign in blobs:
        values += sign * 6 * np.exp(-np.sum((xyz - centre) ** 2, axis=1) / (2 * sigma**2))
    maps[tuple(ijk.T) + (k,)] = values
maps_img = nib.Nifti1Image(maps, mask_img.affine)

# %%
# Threshold, split, extract
# -------------------------
# ``ratio_n_voxels`` keeps, over all maps together, ``threshold`` times as many
# voxels as one map has in the brain, strongest values first: here 10 %, so
# the noise is cut away and the blobs stay.
# ``two_sided=True`` keeps strong negative values too. Regions under
# ``min_region_size`` mm3 (here 20 voxels of 64 mm3) are dropped, which removes
# the specks of noise that pass the threshold.
extractor = RegionExtractor(
    maps_img, mask_img=mask_img, threshold=0.1, thresholding_strategy="ratio_n_voxels",
    two_sided=True, extractor="connected_components", min_region_size=1280,
    smoothing_fwhm=None,
)
start = time.perf_counter()
extractor.fit()
print(f"fit: {time.perf_counter() - start:.2f} s")
n_regions = extractor.regions_img_.shape[-1]
print(f"{n_regions} regions from {len(components)} maps; "
      f"index_ (map of each region): {[int(i) for i in extractor.index_]}")

# A short run built from the maps, to extract one signal per region.
n_volumes = 60
courses = rng.standard_normal((len(components), n_volumes))
run = np.zeros(mask_img.shape + (n_volumes,), dtype=np.float32)
run[in_brain] = maps[in_brain] @ courses + rng.standard_normal((len(xyz), n_volumes))
signals = extractor.transform(nib.Nifti1Image(run, mask_img.affine))
print(f"region signals: {signals.shape}")

# %%
# Each map and the regions it gave
# --------------------------------
regions = np.asarray(extractor.regions_img_.dataobj)
fig, axes = plt.subplots(2, len(components), figsize=(12, 6))
for k in range(len(components)):
    peak = np.unravel_index(np.argmax(np.abs(maps[..., k])), mask_img.shape)
    axial = peak[2]
    limit = np.abs(maps[..., k]).max()
    axes[0, k].imshow(maps[:, :, axial, k].T, origin="lower", cmap="RdBu_r",
                      vmin=-limit, vmax=limit)
    axes[0, k].set_title(f"map {k} (z index {axial})", fontsize=9)
    own = [r for r in range(n_regions) if extractor.index_[r] == k]
    label_slice = np.zeros(mask_img.shape[:2])
    for number, r in enumerate(own, start=1):
        label_slice[regions[:, :, axial, r] != 0] = number
    axes[1, k].imshow(np.where(in_brain[:, :, axial], 0, np.nan).T, origin="lower",
                      cmap="gray_r", vmin=-1, vmax=3)
    axes[1, k].imshow(np.where(label_slice > 0, label_slice, np.nan).T, origin="lower",
                      cmap="tab10", vmin=1, vmax=10, interpolation="nearest")
    axes[1, k].set_title(f"{len(own)} region(s) from map {k}", fontsize=9)
for ax in axes.ravel():
    ax.set_axis_off()
fig.tight_layout()
plt.show()
