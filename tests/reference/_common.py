"""Shared helper for the reference scripts: byte-reproducible safetensors writing."""

import json
import os
import struct

from safetensors import safe_open
from safetensors.torch import save_file


def save_sorted(tensors, path, metadata):
    """safetensors.torch.save_file, then rewrite the JSON header with the
    __metadata__ keys sorted (save_file orders them at random, which would make
    every regeneration produce a different file). Tensor data and offsets are
    untouched; the header is re-padded with spaces to an 8-byte multiple as
    save_file does. The file is read back with safe_open as a check."""
    tensors = {n: t.contiguous() for n, t in tensors.items()}
    save_file(tensors, path, metadata=metadata)
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", None)
    new = {}
    if meta is not None:
        new["__metadata__"] = dict(sorted(meta.items()))
    new.update(header)  # tensor entries in save_file's order (offset order)
    text = json.dumps(new, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
    with safe_open(path, "pt") as f:
        assert set(f.keys()) == set(tensors)
        assert f.metadata() == metadata
        for k in tensors:
            assert f.get_tensor(k).equal(tensors[k]), k
    return os.path.getsize(path)
