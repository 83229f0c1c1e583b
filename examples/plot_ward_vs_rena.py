"""
Ward or ReNA? Two parcellations of the same data
================================================

:class:`~regionkit.regions.Parcellations` groups voxels with similar time
courses into connected parcels. ``"ward"`` (agglomerative clustering under the
voxel-grid connectivity) gives compact, even-sized parcels and is the usual
choice; ``"rena"`` (recursive nearest agglomeration, our implementation of
Hoyos-Idrobo et al., 2019) merges nearest neighbours a few rounds at a time
and scales better to large masks, at the price of less regular parcels.

Both are fitted here on two synthetic subjects on a 5 mm MNI grid (15,000
brain voxels, to keep the example fast), with 150 parcels. See :doc:`/guide/parcellations` for which method to use when and the
timings on a full-size run.
"""

import time

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
from scipy.ndimage import gaussian_filter

from regionkit.datasets import load_mni152_brain_mask
from regionkit.image import resample_img
from regionkit.regions import Parcellations

# %%
# Two synthetic subjects with smooth, structured signals
# ------------------------------------------------------
# Spatially smooth random fields whose amplitudes follow slow time courses:
# neighbouring voxels are correlated, as in real data after preprocessing.
mask_img = resample_img(load_mni152_brain_mask(resolution=4),
                        target_affine=np.diag((5.0, 5.0, 5.0)), interpolation="nearest")
in_brain = np.asarray(mask_img.dataobj) > 0
rng = np.random.default_rng(0)


def subject(n_volumes=60, n_sources=12):
    fields = np.stack([gaussian_filter(rng.standard_normal(mask_img.shape), 2.0)
                       for _ in range(n_sources)], axis=-1)
    fields /= fields[in_brain].std(axis=0)
    courses = rng.standard_normal((n_sources, n_volumes))
    data = fields @ courses + 0.3 * rng.standard_normal(mask_img.shape + (n_volumes,))
    data[~in_brain] = 0
    return nib.Nifti1Image(data.astype(np.float32), mask_img.affine)


runs = [subject(), subject()]

# %%
# Fit both methods
# ----------------
parcellations, seconds = {}, {}
for method in ("ward", "rena"):
    start = time.perf_counter()
    parcellations[method] = Parcellations(
        method=method, n_parcels=150, mask=mask_img, smoothing_fwhm=None,
        standardize="zscore_sample", random_state=0,
    ).fit(runs)
    seconds[method] = time.perf_counter() - start
    labels = np.asarray(parcellations[method].labels_img_.dataobj)[in_brain]
    sizes = np.bincount(labels.astype(int))[1:]
    sizes = sizes[sizes > 0]
    print(f"{method:5s}: {seconds[method]:.2f} s, {sizes.size} parcels, "
          f"voxels per parcel {sizes.min()}-{sizes.max()} (median {np.median(sizes):.0f})")

# %%
# Parcels on three slices, and their sizes
# ----------------------------------------
cmap = plt.get_cmap("tab20")
fig, axes = plt.subplots(2, 4, figsize=(12, 6),
                         gridspec_kw={"width_ratios": [1, 1, 1, 1.2]})
for row, method in enumerate(("ward", "rena")):
    labels_3d = np.asarray(parcellations[method].labels_img_.dataobj).astype(float)
    shuffled = rng.permutation(int(labels_3d.max()) + 1)  # neighbours get distinct colours
    coloured = np.where(labels_3d > 0, shuffled[labels_3d.astype(int)] % 20, np.nan)
    x, y, z = (n // 2 for n in mask_img.shape)
    cuts = [coloured[x, :, :].T, coloured[:, y, :].T, coloured[:, :, z + 3].T]
    for ax, cut, name in zip(axes[row, :3], cuts, ("sagittal", "coronal", "axial")):
        ax.imshow(cut, origin="lower", cmap=cmap, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(f"{method}, {name}", fontsize=9)
    sizes = np.bincount(labels_3d[in_brain].astype(int))[1:]
    axes[row, 3].hist(sizes[sizes > 0], bins=30, color="C0" if row == 0 else "C1")
    axes[row, 3].set_title(f"{method}: parcel sizes ({seconds[method]:.1f} s)", fontsize=9)
    axes[row, 3].set_xlabel("voxels per parcel")
fig.tight_layout()
plt.show()
