"""Hand-written NIfTI files for the streaming-reader tests.

``write_nifti`` controls what ``nib.save`` does not let a test choose: the exact
``scl_slope``/``scl_inter``, the byte order, NIfTI-1 or NIfTI-2, ``vox_offset``
(with a padding extension) and gzip members. nibabel reads every file it writes,
so ``np.asarray(nib.load(path).dataobj)`` stays the oracle.

Import from another test folder with::

    sys.path.insert(0, str(Path(__file__).parents[1] / "image"))
    from stream_files import write_nifti
"""

from __future__ import annotations

import gzip

import nibabel as nib
import numpy as np


def nifti_bytes(data, *, slope=None, inter=None, byteorder="<", version=1,
                extension_bytes=0):
    """Bytes of a single-file NIfTI holding ``data`` as stored (no conversion).

    Parameters
    ----------
    data : ndarray
        3D or 4D raw voxel values in the dtype to store.
    slope, inter : float or None
        Written to ``scl_slope``/``scl_inter`` (None leaves nibabel's default, NaN).
    byteorder : {"<", ">"}
    version : {1, 2}
    extension_bytes : int
        Size of a padding extension (multiple of 16) pushing ``vox_offset`` up.
    """
    header_class = nib.Nifti1Header if version == 1 else nib.Nifti2Header
    header = header_class(endianness=byteorder)
    header.set_data_dtype(data.dtype)
    header.set_data_shape(data.shape)
    header.set_sform(np.diag([2.0, 2.0, 2.0, 1.0]), code=1)
    if slope is not None:
        header["scl_slope"] = slope
    if inter is not None:
        header["scl_inter"] = inter
    size = header.template_dtype.itemsize
    if extension_bytes:
        ext_flag = b"\x01\x00\x00\x00"
        ext_header = np.array([extension_bytes, 0], dtype=f"{byteorder}i4").tobytes()
        extension = ext_header + b"x" * (extension_bytes - 8)
    else:
        ext_flag, extension = b"\x00\x00\x00\x00", b""
    header["vox_offset"] = size + 4 + len(extension)
    stored = data.astype(data.dtype.newbyteorder(byteorder), copy=False)
    return header.binaryblock + ext_flag + extension + stored.tobytes(order="F")


def write_nifti(path, data, *, compress=None, members=1, **kwargs):
    """Write ``data`` to ``path``; gzip it (``members`` gzip members) if it ends in .gz."""
    raw = nifti_bytes(data, **kwargs)
    if compress is None:
        compress = str(path).endswith(".gz")
    if compress:
        cut_points = np.linspace(0, len(raw), members + 1).astype(int)
        payload = b"".join(
            gzip.compress(raw[a:b], compresslevel=1, mtime=0)
            for a, b in zip(cut_points[:-1], cut_points[1:])
        )
    else:
        payload = raw
    with open(path, "wb") as f:
        f.write(payload)
    return path


def expected_blocks(path, chunk_size):
    """The oracle: nibabel's full array, cut into (start, float32 rows) blocks."""
    data = np.asarray(nib.load(path).dataobj)
    if data.ndim == 3:
        data = data[..., np.newaxis]
    n_volumes = data.shape[3]
    rows = data.reshape(-1, n_volumes, order="F").T.astype(np.float32)
    return [(t0, rows[t0 : t0 + chunk_size]) for t0 in range(0, n_volumes, chunk_size)]
