"""Property tests: the streaming reader gives nibabel's numbers for any stored file."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "image"))
from stream_files import expected_blocks, write_nifti  # noqa: E402

from regionkit.image.stream import available_backends, iter_blocks  # noqa: E402

DTYPES = ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64",
          "float32", "float64"]

shapes = st.tuples(
    st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.integers(1, 9)
)
# Scale factors as a NIfTI header stores them (float32); 0 and NaN mean "no scaling".
scale_factors = st.one_of(
    st.none(),
    st.just(0.0),
    st.floats(-1e3, 1e3, allow_nan=False, width=32),
)


@st.composite
def stored_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(shapes)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, shape, endpoint=True, dtype=dtype)
    else:
        data = (rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 6)).astype(dtype)
    if draw(st.booleans()):
        data = data[..., 0]  # a 3D image
    return data


@given(
    data=stored_arrays(),
    slope=scale_factors,
    inter=st.floats(-1e4, 1e4, allow_nan=False, width=32),
    byteorder=st.sampled_from("<>"),
    version=st.sampled_from([1, 2]),
    suffix=st.sampled_from([".nii", ".nii.gz"]),
    members=st.integers(1, 3),
    chunk_size=st.integers(1, 12),
    backend=st.sampled_from(available_backends()),
)
def test_blocks_equal_nibabel_for_any_file(tmp_path, data, slope, inter, byteorder,
                                           version, suffix, members, chunk_size,
                                           backend):
    path = write_nifti(
        tmp_path / f"run{suffix}", data, slope=slope, inter=inter,
        byteorder=byteorder, version=version, members=members,
    )
    expected = expected_blocks(path, chunk_size)
    got = list(iter_blocks(path, chunk_size, backend=backend))
    assert [start for start, _ in got] == [start for start, _ in expected]
    for (_, block), (_, reference) in zip(got, expected):
        assert block.dtype == np.float32 and block.flags.c_contiguous
        np.testing.assert_array_equal(block, reference)
