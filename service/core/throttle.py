"""Counting failed logins: at most N per minute for one login and for one address.

The counts live in the server's memory (one process serves the pages); a restart forgets them.
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["LoginThrottle"]

_MAX_KEYS = 100_000


class LoginThrottle:
    """A sliding window of failed attempts per key (``login:ivanova``, ``address:10.0.0.7``).

    Parameters
    ----------
    limit : int
        Failures allowed per key within ``window`` seconds; the next attempt is refused.
    window : float
        The window, in seconds.
    """

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, *keys: str) -> bool:
        """Whether any of ``keys`` has used up its failures of the last window."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.limit for key in keys)

    def failed(self, *keys: str) -> None:
        """Count one failed attempt for each of ``keys``."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > _MAX_KEYS:  # forget keys whose failures are all old
                for key in list(self._failures):
                    self._recent(key, now)
            for key in keys:
                self._failures.setdefault(key, deque()).append(now)
