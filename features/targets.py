"""The programme's targets that every part measures against (docs/rules.md#satisfaction).

The share of participants satisfied with the programme, by year, in percent. The service's report,
the offline evaluation and the indicators compare with these numbers; they are written only here.
"""

from __future__ import annotations

__all__ = ["SATISFACTION_TARGETS"]

#: Target share (percent) of mentees and of mentors satisfied with the programme, by year.
SATISFACTION_TARGETS = {2022: 65.0, 2023: 75.0, 2024: 85.0}
