"""CivitAI version and model ids: positive integers, given as ints or strings of digits.

Stdlib only. A catalog may hold 9208 or "9208"; both mean the same version, so every
comparison goes through `canonical_id`.
"""

from __future__ import annotations

# CivitAI ids are database serials; anything longer than this is not an id (and very long
# digit strings would make int() slow or raise).
MAX_ID_DIGITS = 18


def canonical_id(value: object) -> str | None:
    """The id as a canonical decimal string, or None when `value` is not a valid id."""
    if isinstance(value, bool):  # bool is an int subclass: True is not version 1
        return None
    if isinstance(value, int):
        # range first: str() of an int over 4300 digits raises ValueError
        if not 0 < value < 10**MAX_ID_DIGITS:
            return None
        text = str(value)
    elif isinstance(value, str):
        text = value
        if not (0 < len(text) <= MAX_ID_DIGITS) or not text.isascii() or not text.isdigit():
            return None
    else:
        return None
    if len(text) > MAX_ID_DIGITS:
        return None
    number = int(text)
    return str(number) if number > 0 else None
