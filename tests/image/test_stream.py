"""Tests of the streaming reader: nibabel's numbers, every byte of a corrupt file."""

from __future__ import annotations

import gzip
import tracemalloc

import nibabel as nib
import numpy as np
import pytest
from stream_files import expected_blocks, write_nifti

from regionkit.image.stream import (
    CorruptImageError,
    available_backends,
    iter_blocks,
    iter_volumes,
    read_header,
)

BACKENDS = available_backends()


def _collect(img, chunk_size=4, **kwargs):
    return [(start, block.copy()) for start, block in iter_blocks(img, chunk_size, **kwargs)]


def _assert_same_blocks(got, expected):
    assert [start for start, _ in got] == [start for start, _ in expected]
    for (_, block), (_, reference) in zip(got, expected):
        assert block.dtype == np.float32
        assert block.flags.c_contiguous
        np.testing.assert_array_equal(block, reference)


@pytest.fixture
def small_run(rng):
    return (rng.standard_normal((5, 6, 4, 11)) * 100).astype(np.float32)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
@pytest.mark.parametrize(
    ("dtype", "slope", "inter", "byteorder"),
    [
        ("float32", None, None, "<"),
        ("float32", None, None, ">"),
        ("float32", 2.5, -1.25, "<"),
        ("int16", 0.37, 12.0, "<"),
        ("int16", 0.37, 12.0, ">"),
        ("int16", 0.0, 5.0, "<"),  # slope 0 means "no scaling" to nibabel
        ("uint8", 1.0, 3.0, "<"),
        ("float64", None, None, "<"),
        ("float64", 1e-3, 0.0, ">"),
        ("int32", 1.0, 0.0, "<"),
        ("uint16", 2.0, 0.0, "<"),
        ("int8", None, None, "<"),
    ],
)
def test_blocks_equal_nibabel(tmp_path, rng, backend, suffix, dtype, slope, inter,
                              byteorder):
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is None:
        data = (rng.standard_normal((5, 6, 4, 11)) * 1e3).astype(dtype)
    else:
        data = rng.integers(info.min, info.max, (5, 6, 4, 11), endpoint=True).astype(dtype)
    path = write_nifti(tmp_path / f"run{suffix}", data, slope=slope, inter=inter,
                       byteorder=byteorder)
    for chunk_size in (1, 4, 16):
        got = _collect(path, chunk_size, backend=backend)
        _assert_same_blocks(got, expected_blocks(path, chunk_size))


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("extension_bytes", [0, 64])
def test_nifti2_and_vox_offset(tmp_path, small_run, version, extension_bytes):
    path = write_nifti(tmp_path / "run.nii.gz", small_run, version=version,
                       extension_bytes=extension_bytes, slope=1.5, inter=0.5)
    assert nib.load(path).dataobj.offset == {1: 352, 2: 544}[version] + extension_bytes
    _assert_same_blocks(_collect(path, 3), expected_blocks(path, 3))
    assert tuple(read_header(path).get_data_shape()) == small_run.shape


def test_3d_file_is_one_block_of_one_volume(tmp_path, small_run):
    path = write_nifti(tmp_path / "vol.nii.gz", small_run[..., 0].copy())
    blocks = _collect(path, 16)
    assert len(blocks) == 1
    assert blocks[0][1].shape == (1, 5 * 6 * 4)
    np.testing.assert_array_equal(blocks[0][1][0], small_run[..., 0].ravel(order="F"))


def test_row_layout_is_fortran_flat_index(tmp_path, small_run):
    path = write_nifti(tmp_path / "run.nii.gz", small_run)
    (i, j, k), t = (3, 5, 2), 7
    flat = np.ravel_multi_index((i, j, k), small_run.shape[:3], order="F")
    for start, block in iter_blocks(path, chunk_size=4):
        if start <= t < start + len(block):
            assert block[t - start, flat] == small_run[i, j, k, t]
            view = block.reshape(len(block), 4, 6, 5).transpose(3, 2, 1, 0)
            np.testing.assert_array_equal(view, small_run[..., start : start + len(block)])


def test_nibabel_images_and_lists(tmp_path, small_run, affine_3mm):
    path = write_nifti(tmp_path / "run.nii.gz", small_run, slope=2.0, inter=1.0)
    expected = expected_blocks(path, 4)
    # File-backed image: streamed from its file with the proxy's scaling.
    _assert_same_blocks(_collect(nib.load(path), 4), expected)
    # In-memory image: sliced.
    in_memory = nib.Nifti1Image(np.asarray(nib.load(path).dataobj), affine_3mm)
    _assert_same_blocks(_collect(in_memory, 4), expected)
    # pathlib and str paths.
    _assert_same_blocks(_collect(str(path), 4), expected)
    # A list of 3D images, mixing paths and images.
    volumes = [nib.Nifti1Image(small_run[..., t].copy(), affine_3mm) for t in range(11)]
    paths = [write_nifti(tmp_path / f"v{t}.nii.gz", small_run[..., t].copy()) for t in (0, 1)]
    mixed = [*paths, *volumes[2:]]
    rows = small_run.reshape(-1, 11, order="F").T
    for start, block in iter_blocks(mixed, chunk_size=4):
        np.testing.assert_array_equal(block, rows[start : start + len(block)])


def test_list_with_mismatched_shapes(affine_3mm, small_run):
    good = nib.Nifti1Image(small_run[..., 0].copy(), affine_3mm)
    bad = nib.Nifti1Image(np.zeros((3, 3, 3), np.float32), affine_3mm)
    with pytest.raises(ValueError, match=r"img\[1\] has shape \(3, 3, 3\), expected"):
        iter_blocks([good, bad])
    with pytest.raises(ValueError, match=r"img\[0\] must be a 3D image, got 11 volumes"):
        iter_blocks([nib.Nifti1Image(small_run, affine_3mm)])


def test_iter_volumes(tmp_path, small_run):
    path = write_nifti(tmp_path / "run.nii.gz", small_run)
    indices = []
    for index, volume in iter_volumes(path, chunk_size=3):
        assert volume.shape == small_run.shape[:3]
        np.testing.assert_array_equal(volume, small_run[..., index])
        indices.append(index)
    assert indices == list(range(11))


@pytest.mark.parametrize("members", [2, 5])
def test_multi_member_and_zero_padding(tmp_path, small_run, members):
    path = write_nifti(tmp_path / "run.nii.gz", small_run, members=members)
    with open(path, "ab") as f:
        f.write(b"\x00" * 37)  # gzip treats trailing zeros as padding
    expected = [(t0, small_run.reshape(-1, 11, order="F").T[t0 : t0 + 4]) for t0 in (0, 4, 8)]
    _assert_same_blocks(_collect(path, 4), expected)


def test_garbage_after_the_gzip_stream(tmp_path, small_run):
    path = write_nifti(tmp_path / "run.nii.gz", small_run)
    with open(path, "ab") as f:
        f.write(b"\x00\x00junk")
    with pytest.raises(CorruptImageError, match=r"gzip"):
        _collect(path)


def test_crc_mismatch_is_caught_where_nibabel_is_silent(tmp_path, small_run):
    path = write_nifti(tmp_path / "run.nii.gz", small_run)
    payload = bytearray(path.read_bytes())
    payload[-8] ^= 0x01  # first byte of the CRC32 in the gzip trailer
    path.write_bytes(bytes(payload))
    # nibabel reads only the bytes it needs and returns data without complaint.
    np.testing.assert_array_equal(np.asarray(nib.load(path).dataobj), small_run)
    seen = []
    with pytest.raises(CorruptImageError, match=r"trailer check failed") as info:
        for start, _ in iter_blocks(path, chunk_size=4):
            seen.append(start)
    assert seen in ([], [0], [0, 4])  # the last block is never handed out unverified
    assert info.value.filename == str(path)
    assert info.value.offset == len(payload)


def test_length_mismatch_in_trailer(tmp_path, small_run):
    path = write_nifti(tmp_path / "run.nii.gz", small_run)
    payload = bytearray(path.read_bytes())
    payload[-1] ^= 0x10  # ISIZE
    path.write_bytes(bytes(payload))
    with pytest.raises(CorruptImageError, match=str(path.name)):
        _collect(path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_flipped_byte_raises_or_changes_nothing(tmp_path, rng, backend):
    data = (rng.standard_normal((4, 3, 3, 5)) * 50).astype(np.float32)
    path = write_nifti(tmp_path / "run.nii.gz", data, slope=1.0, inter=0.0)
    original = path.read_bytes()
    expected = expected_blocks(path, 2)
    flipped_path = tmp_path / "flipped.nii.gz"
    outcomes = {"raised": 0, "same": 0, "same_in_deflate": 0}
    for position in range(len(original)):
        for mask in (0xFF, 0x01):
            corrupt = bytearray(original)
            corrupt[position] ^= mask
            flipped_path.write_bytes(bytes(corrupt))
            try:
                got = _collect(flipped_path, 2, backend=backend)
            except CorruptImageError as exc:
                assert str(flipped_path) in str(exc)
                assert 0 <= exc.offset <= len(original)
                outcomes["raised"] += 1
                continue
            _assert_same_blocks(got, expected)  # never different numbers
            outcomes["same"] += 1
            if position not in range(3, 10):
                # Outside the gzip header fields that do not affect the data (FLG's
                # FTEXT bit, MTIME, XFL, OS), a flip can still decode to the same
                # bytes (an unused Huffman code length): rare, and harmless.
                outcomes["same_in_deflate"] += 1
    for position in range(4, 8):  # a flipped timestamp changes nothing
        corrupt = bytearray(original)
        corrupt[position] ^= 0xFF
        flipped_path.write_bytes(bytes(corrupt))
        _assert_same_blocks(_collect(flipped_path, 2, backend=backend), expected)
    assert outcomes["same_in_deflate"] < 0.02 * len(original), outcomes
    assert outcomes["raised"] > 1.9 * len(original) - 20, outcomes


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_truncation_raises_naming_file_and_offset(tmp_path, small_run, suffix):
    path = write_nifti(tmp_path / f"run{suffix}", small_run)
    full = path.read_bytes()
    cut_path = tmp_path / f"cut{suffix}"
    for length in sorted({*range(0, len(full), max(1, len(full) // 97)), len(full) - 1}):
        cut_path.write_bytes(full[:length])
        with pytest.raises(CorruptImageError) as info:
            _collect(cut_path, 4)
        message = str(info.value)
        assert str(cut_path) in message
        assert f"byte offset reached: {info.value.offset}" in message
        assert info.value.offset <= length


def test_non_gzip_file_with_gz_name(tmp_path, small_run):
    path = write_nifti(tmp_path / "plain.nii.gz", small_run, compress=False)
    with pytest.raises(CorruptImageError, match=r"not gzip data"):
        iter_blocks(path)


def test_gzip_file_with_nii_name(tmp_path, small_run):
    path = write_nifti(tmp_path / "packed.nii", small_run, compress=True)
    with pytest.raises(ValueError, match=r"gzip-compressed data but its name"):
        iter_blocks(path)


def test_not_a_nifti(tmp_path):
    path = tmp_path / "notes.nii.gz"
    path.write_bytes(gzip.compress(b"hello world" * 100))
    with pytest.raises(ValueError, match=r"not a single-file NIfTI-1 or NIfTI-2"):
        iter_blocks(path)


def test_bad_arguments(tmp_path, small_run, affine_3mm):
    path = write_nifti(tmp_path / "run.nii.gz", small_run)
    with pytest.raises(ValueError, match=r"chunk_size must be an int >= 1, got 0"):
        iter_blocks(path, chunk_size=0)
    with pytest.raises(ValueError, match=r"backend must be one of .* got 'lz4'"):
        iter_blocks(path, backend="lz4")
    with pytest.raises(FileNotFoundError, match=r"img must be an existing file"):
        iter_blocks(tmp_path / "missing.nii.gz")
    with pytest.raises(TypeError, match=r"img must be a path .* got int"):
        iter_blocks(3)
    five_d = nib.Nifti1Image(np.zeros((2, 2, 2, 3, 2), np.float32), affine_3mm)
    with pytest.raises(ValueError, match=r"must be a 3D or 4D image, got a 5D image"):
        iter_blocks(five_d)
    complex_path = write_nifti(tmp_path / "c.nii", np.zeros((2, 2, 2), np.complex64))
    with pytest.raises(ValueError, match=r"complex64 voxels"):
        iter_blocks(complex_path)


def test_kept_blocks_and_views_are_never_overwritten(tmp_path, rng):
    data = rng.standard_normal((4, 3, 5, 13)).astype(np.float32)
    path = write_nifti(tmp_path / "run.nii.gz", data)
    rows = data.reshape(-1, 13, order="F").T
    kept = list(iter_blocks(path, chunk_size=2))  # every block held at once
    views = [block[1:] for _, block in iter_blocks(path, chunk_size=2)]  # views only
    for start, block in kept:
        np.testing.assert_array_equal(block, rows[start : start + len(block)])
    for view, start in zip(views, range(0, 13, 2)):
        np.testing.assert_array_equal(view, rows[start + 1 : start + 2])
    # Blocks dropped by the consumer are recycled, not left for the kernel to zero.
    addresses = []
    for _, block in iter_blocks(path, chunk_size=2):
        addresses.append(block.__array_interface__["data"][0])
    assert len(addresses) == 7
    assert len(set(addresses)) == 2  # the consumer's block and the one being filled


def test_memory_is_bounded_by_the_chunk(tmp_path, rng):
    data = rng.standard_normal((20, 20, 20, 40)).astype(np.float32)  # 1.28 MB
    path = write_nifti(tmp_path / "run.nii.gz", data)
    block_bytes = 2 * 20 * 20 * 20 * 4
    tracemalloc.start()
    try:
        for _start, _block in iter_blocks(path, chunk_size=2):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Two live blocks (the consumer's and the next) plus bounded I/O buffers.
    assert peak < 2 * block_bytes + 1_200_000, peak
    assert peak < data.nbytes
