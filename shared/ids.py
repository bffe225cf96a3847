"""Public identifiers: a short type prefix and a time-ordered ULID, so ids sort by creation."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = (0, 0)  # the milliseconds and the random part of the newest id made in this process


def new_id(prefix: str) -> str:
    """`prefix_` + 26 characters: 48 bits of milliseconds, then 80 random bits.

    Monotonic within a process (as ULID's spec allows): an id made in the same millisecond as the one
    before, or with the clock stepped back, takes the one before's random part plus one, so ids made one after
    another always sort in that order.
    """
    global _last
    with _lock:
        ms, random = int(time.time() * 1000), int.from_bytes(os.urandom(10), "big")
        if ms <= _last[0]:
            ms, random = _last[0], (_last[1] + 1) % (1 << _RANDOM_BITS)
        _last = (ms, random)
    value = (ms << _RANDOM_BITS) | random
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(reversed(chars))}"
