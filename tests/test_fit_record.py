import warnings
import weakref

import nibabel as nib
import numpy as np
import pytest

from regionkit import RegionkitWarning
from regionkit._fit_record import records_fit


class _Estimator:
    def __init__(self, reports=True, fail=False):
        self.reports = reports
        self.fail = fail

    @records_fit
    def fit(self, imgs=None, y=None):
        warnings.warn("region 3 is empty", RegionkitWarning, stacklevel=2)
        if self.fail:
            raise ValueError("bad input")
        return self


def test_records_file_names_and_warnings_and_still_warns(tmp_path):
    path = tmp_path / "run.nii.gz"
    img = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    nib.save(img, path)
    loaded = nib.load(path)
    est = _Estimator()
    with pytest.warns(RegionkitWarning, match="region 3 is empty"):
        assert est.fit([str(path), loaded]) is est
    assert est._report_extras == {
        "input_files": [str(path), str(path)],
        "warnings": ["RegionkitWarning: region 3 is empty"],
    }


def test_reports_false_records_nothing():
    est = _Estimator(reports=False)
    with pytest.warns(RegionkitWarning):
        est.fit(None)
    assert est._report_extras is None


def test_fit_error_propagates_with_its_warning():
    est = _Estimator(fail=True)
    with pytest.warns(RegionkitWarning), pytest.raises(ValueError, match="bad input"):
        est.fit(None)
    assert not hasattr(est, "_report_extras")


def test_in_memory_images_are_not_kept_alive():
    img = nib.Nifti1Image(np.zeros((2, 2, 2), np.float32), np.eye(4))
    ref = weakref.ref(img)
    est = _Estimator()
    with pytest.warns(RegionkitWarning):
        est.fit(img)
    del img
    assert ref() is None
    assert est._report_extras["input_files"] == []
