"""Frames between the worker and its render child: a 4-byte length, then a JSON header or raw bytes."""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30


def encode(obj: dict[str, Any]) -> bytes:
    """A JSON frame: its length, then the object."""
    data = json.dumps(obj).encode()
    return HEADER.pack(len(data)) + data


def encode_bytes(data: bytes) -> bytes:
    """A bytes frame: its length, then the data."""
    return HEADER.pack(len(data)) + data


def read_frame(stream: BinaryIO) -> bytes | None:
    """Blocking read of one frame (the child's side); None at end of stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes")
    data = stream.read(size)
    if len(data) < size:
        return None
    return data
