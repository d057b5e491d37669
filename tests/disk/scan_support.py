"""Model files for scan tests: small safetensors files with a real header, and their hashes."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path


def safetensors_bytes(seed: str, tensor_bytes: int = 4096) -> bytes:
    header = json.dumps({"__metadata__": {"seed": seed},
                         "w": {"dtype": "F16", "shape": [tensor_bytes // 2], "data_offsets": [0, tensor_bytes]}})
    raw = header.encode()
    body = (hashlib.sha256(seed.encode()).digest() * (tensor_bytes // 32 + 1))[:tensor_bytes]
    return struct.pack("<Q", len(raw)) + raw + body


def write_model(path: Path, seed: str, tensor_bytes: int = 4096) -> tuple[Path, str, str]:
    """Write a safetensors file; (path, SHA256, tensor SHA256) in lower-case hex."""
    data = safetensors_bytes(seed, tensor_bytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    (size,) = struct.unpack("<Q", data[:8])
    return path, hashlib.sha256(data).hexdigest(), hashlib.sha256(data[8 + size :]).hexdigest()
