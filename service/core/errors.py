"""Domain errors of the service: classes that carry what went wrong, mapped to HTTP in one place.

Each error has a machine-readable ``code``, the HTTP ``status`` it maps to (``service.handlers``
turns it into the documented ``ErrorOut`` body of the API, or into a Russian page) and a Russian
``message`` built from its attributes. Messages name people and schools, never internal ids: a
curator reads them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from service.core.rules import form_title

__all__ = [
    "AlreadyDecided",
    "Busy",
    "ConcurrentChange",
    "Conflict",
    "CsrfRefused",
    "Denied",
    "DuplicatePeople",
    "EditedMeanwhile",
    "FinalSurveyMissing",
    "GroupFull",
    "Invalid",
    "LinkExpired",
    "LinkRefused",
    "MenteeHasMentors",
    "MenteeHasPair",
    "MentorFull",
    "NoConsent",
    "NotAllowed",
    "NotFound",
    "PairNotActive",
    "SameMentor",
    "ServiceError",
    "TooManyAttempts",
    "Unauthorized",
]


class ServiceError(Exception):
    """Base of the service's errors: a ``code`` for programs, a Russian ``message`` for people.

    ``extra`` holds further machine-readable fields of the answer (ids, counts, statuses).
    """

    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra: dict[str, Any] = dict(extra or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


_ENTITIES = {
    "organisation": ("Школа", "не найдена"),
    "person": ("Участник", "не найден"),
    "mentee": ("Наставляемый", "не найден"),
    "mentor": ("Наставник", "не найден"),
    "proposal": ("Предложение", "не найдено"),
    "pair": ("Пара", "не найдена"),
    "run": ("Подбор", "не найден"),
    "list": ("Список", "не найден"),
    "municipality": ("Муниципалитет", "не найден"),
    "side": ("Вид анкет", "не найден"),
    "invitation": ("Ссылка", "не найдена"),
    "meeting": ("Встреча", "не найдена"),
    "plan": ("План пары", "не найден"),
}


class NotFound(ServiceError):
    """The object does not exist, or the user may not see it (the two are not told apart)."""

    status = 404

    def __init__(self, entity: str, key: object) -> None:
        title, missing = _ENTITIES.get(entity, (entity, "не найден"))
        shown = f"№ {key}" if isinstance(key, int) else f"«{key}»"
        super().__init__("not_found", f"{title} {shown} {missing}.", {"entity": entity})
        self.entity = entity
        self.key = key


class Invalid(ServiceError):
    """The request is malformed; ``errors`` lists every problem as ``{row, column, value, message}``."""

    status = 422

    def __init__(
        self,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__("invalid", message, {**(extra or {}), "errors": errors or []})

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Every problem found."""
        return list(self.extra["errors"])


class Unauthorized(ServiceError):
    """No valid token or session."""

    status = 401

    def __init__(self) -> None:
        super().__init__(
            "unauthorized", "Нужен вход: войдите заново или укажите действующий токен."
        )


class Denied(ServiceError):
    """The user's role does not allow this action at all."""

    status = 403

    def __init__(self, what: str) -> None:
        super().__init__("forbidden", f"Недостаточно прав: {what}.")


class CsrfRefused(ServiceError):
    """An unsafe request that did not come from our own pages (a forged cross-site request)."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "csrf",
            "Запрос отклонён: он отправлен не со страницы сервиса или страница устарела "
            "(защита от подделки запросов). Откройте страницу заново и повторите.",
        )


class Conflict(ServiceError):
    """The request is valid but the current state forbids it."""

    status = 409


def _person(name: str | None, side: str) -> str:
    if name:
        return name
    return "наставник без имени в анкете" if side == "mentor" else "наставляемый без имени в анкете"


class MentorFull(Conflict):
    """The mentor has no free place."""

    def __init__(self, mentor_id: int, name: str | None, taken: int, places: int) -> None:
        who = _person(name, "mentor")
        why = (
            "новых наставляемых не берёт"
            if places == 0
            else f"свободных мест нет: занято {taken} из {places}"
        )
        super().__init__(
            "mentor_full",
            f"У наставника {who} {why}.",
            {"mentor_id": mentor_id, "taken": taken, "capacity": places},
        )
        self.taken, self.places = taken, places


class MenteeHasPair(Conflict):
    """The mentee already has an active pair (with another mentor)."""

    def __init__(
        self, mentee_id: int, name: str | None, pair_id: int, mentor_name: str | None
    ) -> None:
        who = _person(name, "mentee")
        mentor = f" с наставником {mentor_name}" if mentor_name else ""
        super().__init__(
            "mentee_has_pair",
            f"У наставляемого {who} уже есть действующая пара{mentor}.",
            {"mentee_id": mentee_id, "pair_id": pair_id},
        )


class GroupFull(Conflict):
    """The mentor's group of this form is as large as the school allows (docs/rules.md#group)."""

    def __init__(self, mentor_id: int, name: str | None, form: str, size: int) -> None:
        super().__init__(
            "group_full",
            f"Группа наставника {_person(name, 'mentor')} в форме «{form_title(form)}» заполнена: "
            f"в ней {size} из {size} наставляемых, больше школа не допускает.",
            {"mentor_id": mentor_id, "form": form, "size_limit": size},
        )


class MenteeHasMentors(Conflict):
    """The mentee has as many mentors as they need (docs/rules.md#co-mentors)."""

    def __init__(self, mentee_id: int, name: str | None, mentors: list[str], demand: int) -> None:
        who = _person(name, "mentee")
        named = ", ".join(mentors)
        message = (
            f"У наставляемого {who} уже есть действующая пара с наставником {named}."
            if demand == 1
            else f"У наставляемого {who} уже {len(mentors)} из {demand} наставников: {named}."
        )
        super().__init__(
            "mentee_has_pair",
            message,
            {"mentee_id": mentee_id, "demand": demand},
        )


class SameMentor(Conflict):
    """The mentor already mentors this mentee (co-mentors are distinct people)."""

    def __init__(self, mentee_name: str | None, mentor_name: str | None) -> None:
        super().__init__(
            "same_mentor",
            f"{_person(mentor_name, 'mentor')} уже наставник наставляемого "
            f"{_person(mentee_name, 'mentee')}: второй наставник должен быть другим человеком.",
        )


class FinalSurveyMissing(Conflict):
    """The pair's final satisfaction survey is not recorded for every side."""

    def __init__(self, mentee: str | None, mentor: str | None, sides: list[str]) -> None:
        who = {"mentee": "наставляемого", "mentor": "наставника"}
        missing = " и ".join(who[s] for s in sides)
        super().__init__(
            "final_survey_missing",
            f"Пара {mentee or 'наставляемый'} — {mentor or 'наставник'}: нет итоговой анкеты "
            f"удовлетворённости {missing}. Запишите её, затем завершите программу.",
            {"missing": sides},
        )


class NoConsent(Conflict):
    """A person's written consent is not recorded (or was withdrawn)."""

    def __init__(self, person_id: int, name: str | None, side: str) -> None:
        role = "наставляемого" if side == "mentee" else "наставника"
        super().__init__(
            "no_consent",
            f"Нет записанного согласия {role} {_person(name, side)}: без согласия пара не "
            "создаётся.",
            {"person_id": person_id, "side": side},
        )


_PROPOSAL_STATES = {
    "open": "ожидает решения",
    "confirmed": "подтверждено",
    "rejected": "отклонено",
    "superseded": "снято",
}
_PAIR_STATES = {"active": "действует", "completed": "завершена", "ended": "прекращена"}


class AlreadyDecided(Conflict):
    """The proposal is no longer open."""

    def __init__(
        self, proposal_id: int, status: str, pair_id: int | None = None, why: str | None = None
    ) -> None:
        state = _PROPOSAL_STATES.get(status, status)
        super().__init__(
            "already_decided",
            f"Это предложение уже рассмотрено ({state}{': ' + why if why else ''}).",
            {"proposal_id": proposal_id, "status": status, "pair_id": pair_id},
        )


class PairNotActive(Conflict):
    """The pair has already ended."""

    def __init__(self, pair_id: int, status: str) -> None:
        super().__init__(
            "pair_not_active",
            f"Пара уже не действует ({_PAIR_STATES.get(status, status)}).",
            {"pair_id": pair_id, "status": status},
        )


class NotAllowed(Conflict):
    """The hard rules do not allow this pair."""

    def __init__(self, why: str) -> None:
        super().__init__("not_allowed", f"Эта пара не допускается правилами: {why}.")


class ConcurrentChange(Conflict):
    """Another request changed the same data at the same moment."""

    def __init__(self, code: str = "concurrent_change", what: str | None = None) -> None:
        super().__init__(
            code,
            what
            or "Данные изменились одновременно с вашим действием; обновите страницу и повторите.",
        )


# -- branch participation (issue 12): participants' links ------------------------------------


class LinkRefused(ServiceError):
    """A participant's link that is not ours, was changed, revoked, or is for something else."""

    status = 403

    def __init__(self, why: str = "ссылка недействительна") -> None:
        super().__init__(
            "link_refused",
            f"Ссылка не открывается: {why}. Попросите у куратора программы наставничества "
            "новую ссылку.",
        )


class LinkExpired(ServiceError):
    """A participant's link whose time is over."""

    status = 410

    def __init__(self) -> None:
        super().__init__(
            "link_expired",
            "Срок действия ссылки истёк. Попросите у куратора программы наставничества новую "
            "ссылку.",
        )


class TooManyAttempts(ServiceError):
    """Too many failed attempts (logins, or opening participants' links) for one login or from one
    address: wait before trying again."""

    status = 429

    def __init__(self, seconds: int = 60) -> None:
        super().__init__(
            "too_many_attempts",
            f"Слишком много неудачных попыток. Повторите через {max(1, seconds // 60)} мин.",
            {"retry_after": seconds},
        )


class DuplicatePeople(Conflict):
    """A batch over several schools finds the same person (the same code or e-mail) in two."""

    def __init__(self, people: list[tuple[str, list[str]]]) -> None:
        shown = "; ".join(f"{name} — {', '.join(schools)}" for name, schools in people[:20])
        more = f" и ещё {len(people) - 20}" if len(people) > 20 else ""
        super().__init__(
            "duplicate_people",
            f"Подбор не выполнен: один и тот же человек (тот же код или e-mail в анкете) загружен "
            f"в нескольких школах: {shown}{more}. Оставьте анкету каждого человека в одной школе "
            "и повторите подбор.",
            {"people": len(people)},
        )


class Busy(ServiceError):
    """The database stayed busy with another school's long write (SQLite's one writer)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "busy",
            "База данных занята другой долгой операцией (например, загрузкой большого файла); "
            "ничего не сохранено — повторите через минуту.",
        )


# branch pages2: a correction of a person's answers made from an older version
class EditedMeanwhile(Conflict):
    """Someone stored a newer version of the person's answers since the form was opened."""

    def __init__(self, name: str | None, version: int, current: int) -> None:
        super().__init__(
            "edited_meanwhile",
            f"Анкету {name or 'участника'} уже изменил другой пользователь (или новая загрузка) "
            "после того, как вы её открыли; ваши изменения не сохранены. Откройте анкету заново "
            "и внесите их ещё раз.",
            {"version": version, "current_version": current},
        )
