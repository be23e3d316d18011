#!/usr/bin/env python3
"""Exports torchvision's resnet18 weights to dermsim's DSTENSOR file (read by load_weights in
src/model/weights_file.h). Never downloads: pretrained weights come from a state dict you already
have (--weights, e.g. ~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth), else a random init.

Format (little-endian): b"DSTENSOR", uint32 version=1, uint32 count, then per tensor:
uint32 name length, name (UTF-8), uint8 dtype (0 float32, 1 float64, 2 int64), uint32 ndim,
int64 dims[ndim], raw row-major data.
"""
import argparse
import struct
import sys

import numpy as np

DTYPE_CODES = {np.dtype("float32"): 0, np.dtype("float64"): 1, np.dtype("int64"): 2}


def write_tensor_file(path, named_arrays):
    """named_arrays: iterable of (name, numpy array or torch tensor)."""
    chunks = [b"DSTENSOR", struct.pack("<II", 1, len(named_arrays))]
    for name, value in named_arrays:
        array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        if array.dtype not in DTYPE_CODES:
            raise ValueError(f"{name}: unsupported dtype {array.dtype}")
        encoded = name.encode("utf-8")
        chunks.append(struct.pack("<I", len(encoded)) + encoded)
        chunks.append(struct.pack("<BI", DTYPE_CODES[array.dtype], array.ndim))
        chunks.append(struct.pack(f"<{array.ndim}q", *array.shape))
        chunks.append(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())
    with open(path, "wb") as out:
        out.write(b"".join(chunks))


def make_resnet18(seed, weights_path=None):
    import torch
    import torchvision

    torch.manual_seed(seed)
    model = torchvision.models.resnet18(weights=None)
    if weights_path:
        state = torch.load(weights_path, map_location="cpu")
        model.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--random-seed", type=int, default=0, help="seed of the random init")
    parser.add_argument("--weights", help="a torchvision resnet18 state dict (.pth) to export")
    args = parser.parse_args()
    model = make_resnet18(args.random_seed, args.weights)
    state = model.state_dict()
    write_tensor_file(args.out, list(state.items()))
    print(f"wrote {len(state)} tensors to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
