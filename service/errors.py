"""Domain errors of the service; ``service.api`` maps them to HTTP status codes in one place.

Messages are in Russian because a curator reads them (in the pages and in API answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Conflict", "Denied", "Invalid", "NotFound", "ServiceError", "Unauthorized"]


@dataclass
class ServiceError(Exception):
    """Base of the service's errors: a machine-readable ``code`` and a Russian ``message``."""

    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class NotFound(ServiceError):
    """The object does not exist, or the user may not see it (the two are not told apart)."""

    def __init__(self, entity: str, key: object) -> None:
        names = {
            "organisation": "Организация",
            "person": "Участник",
            "mentee": "Наставляемый",
            "mentor": "Наставник",
            "proposal": "Предложение",
            "pair": "Пара",
            "run": "Подбор",
            "municipality": "Муниципалитет",
        }
        super().__init__(
            "not_found", f"{names.get(entity, entity)} {key} не найден(а).", {"entity": entity}
        )


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (no free place, already decided)."""


class Invalid(ServiceError):
    """The request is malformed; ``errors`` lists every problem as ``{row, column, message}``."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__("invalid", message, {"errors": errors or []})


class Unauthorized(ServiceError):
    """No valid token."""

    def __init__(self) -> None:
        super().__init__("unauthorized", "Нужен действующий токен доступа.")


class Denied(ServiceError):
    """The user's role does not allow this action at all."""

    def __init__(self, what: str) -> None:
        super().__init__("forbidden", f"Недостаточно прав: {what}.")
