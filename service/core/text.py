"""Text a curator or a file sends: control characters are refused, ids kept to the database's range.

A control character (U+0000-U+001F except tab and line breaks, U+007F-U+009F) cannot be shown on a
page nor written into a Word order (XML forbids most of them), and is never typed on purpose.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

__all__ = ["MAX_ID", "DbId", "SafeText", "control_characters", "without_control"]

# Ids are the database's integers: PostgreSQL's INTEGER is 32-bit.
MAX_ID = 2**31 - 1

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def control_characters(value: str) -> list[str]:
    """The control characters of ``value``, as ``U+0007`` (none: an empty list)."""
    return sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(value)})


def without_control(value: str) -> str:
    """``value`` without control characters nor characters XML cannot hold (for documents)."""
    return _XML_UNSAFE.sub("", _CONTROL.sub("", value))


def _refuse_control(value: str) -> str:
    found = control_characters(value)
    if found:
        raise ValueError(f"в тексте управляющие символы ({', '.join(found)}): уберите их")
    return value


SafeText = Annotated[str, AfterValidator(_refuse_control)]
"""A string of an API body without control characters."""

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id of a stored row: 1 to 2^31 - 1."""
