"""The server's access log without personal data or secrets.

uvicorn logs every request's address with its query: a search by a pupil's name
(``/ui/orgs/s1/people?q=Иванова+Мария``) and the participants' link tokens (``/p/<token>``,
``/api/v1/links/<token>``: whoever holds one opens a minor's questionnaire) would be kept in the
log of a server on the internet. The access log keeps the path and the query's parameter names;
values and tokens become ``…``.
"""

from __future__ import annotations

import logging
import re

__all__ = ["ACCESS_LOGGER", "RedactedAccess", "redact_access_log", "redacted"]

ACCESS_LOGGER = "uvicorn.access"
_TOKEN = re.compile(r"^(/p/|/api/v1/links/)[^/?#]+")
_VALUE = re.compile(r"=[^&]*")


def redacted(path: str) -> str:
    """``path`` (with its query) without the query's values nor a link's token."""
    path, mark, query = path.partition("?")
    path = _TOKEN.sub(r"\1…", path)
    return path + mark + _VALUE.sub("=…", query) if mark else path


class RedactedAccess(logging.Filter):
    """Rewrite uvicorn's access record (client, method, path with query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redacted(args[2]), args[3], args[4])
        return True


def redact_access_log() -> None:
    """Put the filter on uvicorn's access logger (once; after uvicorn configured its logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactedAccess) for f in logger.filters):
        logger.addFilter(RedactedAccess())
