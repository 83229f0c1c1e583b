"""NiftiMasker keeps its decoded chunk small: the voxel-wise output is the big array."""

import nibabel as nib
import numpy as np
import pytest

from regionkit.maskers import NiftiMasker, nifti_masker


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((91, 109, 91), 9), ((10, 12, 11), 16), ((512, 512, 512), 1)],
)
def test_chunk_is_about_32_mib(shape, expected):
    assert nifti_masker._voxelwise_chunk_size(shape) == expected


def test_output_does_not_depend_on_chunk_size(monkeypatch, tmp_path, rng):
    data = rng.standard_normal((9, 8, 7, 23)).astype(np.float32)
    path = tmp_path / "run.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    mask = np.zeros((9, 8, 7), np.uint8)
    mask[2:7, 2:6, 1:6] = 1
    masker = NiftiMasker(mask_img=nib.Nifti1Image(mask, np.eye(4)), smoothing_fwhm=3.0).fit()
    outputs = []
    for size in (1, 5, 16):
        monkeypatch.setattr(nifti_masker, "_voxelwise_chunk_size", lambda shape, s=size: s)
        outputs.append(masker.transform(str(path)))
    for other in outputs[1:]:
        np.testing.assert_array_equal(outputs[0], other)
    assert outputs[0].shape == (23, int(mask.sum()))
