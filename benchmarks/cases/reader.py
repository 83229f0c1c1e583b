"""Reading the 4D run: regionkit's streaming reader, full loads and decode floors.

The floors inflate the file through a small buffer and discard the output: no
reader can beat them with the same inflater. They use gzip mode (``wbits=31``),
so they include the CRC32 + length check the streaming reader also performs.
"""

from __future__ import annotations

import zlib

from . import case

_INPUT_CHUNK = 256 * 1024
_OUTPUT_CHUNK = 256 * 1024


def _inflate_discard(path, module):
    inflater = module.decompressobj(wbits=31)
    n_bytes = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            data = f.read(_INPUT_CHUNK)
            if not data:
                break
            while data:
                n_bytes += len(inflater.decompress(data, _OUTPUT_CHUNK))
                data = inflater.unconsumed_tail
                if inflater.eof:
                    break
    if not inflater.eof:
        raise ValueError(f"{path}: gzip stream did not end")
    return {"decoded_bytes": n_bytes}


@case("floor/zlib", task="inflate .nii.gz, discard output", library="floor",
      description="zlib inflate through 256 KiB buffers, output discarded")
def floor_zlib(data):
    return _inflate_discard(data["bold"], zlib)


@case("floor/isal", task="inflate .nii.gz, discard output", library="floor",
      requires=("isal",), imports=("isal.isal_zlib",),
      description="ISA-L inflate through 256 KiB buffers, output discarded")
def floor_isal(data):
    from isal import isal_zlib

    return _inflate_discard(data["bold"], isal_zlib)


def _stream(path, backend, chunk_size):
    from regionkit.image.stream import iter_blocks

    n_volumes = 0
    checksum = 0.0
    for _, block in iter_blocks(path, chunk_size=chunk_size, backend=backend):
        n_volumes += block.shape[0]
        checksum += float(block[:, ::4099].sum(dtype="float64"))  # touch the data
    return {"n_volumes": n_volumes, "checksum": checksum}


@case("reader/regionkit-isal", task="read run as float32",
      library="regionkit", reference="floor/isal", requires=("isal",),
      imports=("regionkit.image.stream", "isal.isal_zlib"),
      description="iter_blocks(chunk_size=16, backend='isal')")
def regionkit_isal(data):
    return _stream(data["bold"], "isal", 16)


@case("reader/regionkit-zlib", task="read run as float32",
      library="regionkit", reference="floor/zlib",
      imports=("regionkit.image.stream",),
      description="iter_blocks(chunk_size=16, backend='zlib')")
def regionkit_zlib(data):
    return _stream(data["bold"], "zlib", 16)


@case("reader/nibabel-full", task="read run as float32",
      library="nibabel", reference="floor/zlib", imports=("nibabel", "numpy"),
      description="np.asarray(nib.load(f).dataobj, dtype=float32): whole run in memory")
def nibabel_full(data):
    import nibabel as nib
    import numpy as np

    array = np.asarray(nib.load(data["bold"]).dataobj, dtype=np.float32)
    return {"n_volumes": int(array.shape[-1]),
            "checksum": float(array.reshape(-1, array.shape[-1], order="F")
                              .T[:, ::4099].sum(dtype="float64"))}


@case("reader/nilearn-load", task="read run as float32",
      library="nilearn", reference="floor/zlib", requires=("nilearn",),
      imports=("nilearn.image",),
      description="nilearn.image.get_data(load_img(f)): what nilearn maskers read")
def nilearn_load(data):
    from nilearn.image import get_data, load_img

    array = get_data(load_img(data["bold"]))
    return {"n_volumes": int(array.shape[-1]),
            "checksum": float(array.reshape(-1, array.shape[-1], order="F")
                              .T[:, ::4099].sum(dtype="float64"))}
