"""External mentors (docs/rules.md#external-mentors): mentors of a college or an enterprise who
serve schools, in person or remotely (docs/rules.md#external-mentors).

An external mentor is a person (side ``mentor``) of an organisation whose kind is not ``school``;
the municipality's coordinator keeps them (the municipal base of mentors) and records
which schools each serves and how (``MentorService``). A school's run and suggestions then take
the mentors serving it: in person as if they were of the school (the rule «одна организация»
holds), remotely as a virtual pair (both must accept remote mentoring).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.accounts.accounts import add_organisation
from service.core.audit import record
from service.core.errors import Invalid, NotFound
from service.core.models import MentorService, Organisation, Person, Side
from service.core.rules import ORG_KINDS, SERVICE_MODES
from service.core.security import Actor, organisation_for
from service.people.schemas import ExternalMentorPublic, ExternalOrgPublic, ServedSchool

__all__ = [
    "add_external_organisation",
    "external_mentors",
    "may_use",
    "serve",
    "served_codes",
    "stop_serving",
]


def _view(person: Person, services: list[MentorService]) -> ExternalMentorPublic:
    return ExternalMentorPublic(
        mentor_id=person.id,
        name=person.name,
        spec=person.spec,
        home_org=person.org.code,
        home_name=person.org.name,
        home_kind=person.org.kind,
        schools=[
            ServedSchool(org=s.org.code, name=s.org.name, mode=s.mode)
            for s in sorted(services, key=lambda s: s.org.name)
        ],
    )


def add_external_organisation(
    session: Session, actor: Actor, municipality: str, code: str, name: str, kind: str
) -> ExternalOrgPublic:
    """Add a college or an enterprise to the municipality (its mentors join the pool)."""
    actor.require_municipality(municipality)
    if kind == "school" or kind not in ORG_KINDS:
        allowed = ", ".join(k for k in ORG_KINDS if k != "school")
        raise Invalid(
            f"Вид организации внешних наставников: {allowed}; получено {kind!r}.",
            [{"row": None, "column": "kind", "value": kind, "message": f"допустимы: {allowed}"}],
        )
    region = session.scalar(
        select(Organisation.region).where(Organisation.municipality == municipality).limit(1)
    )
    org_id = add_organisation(session, code, name, municipality, region, kind)
    record(session, actor, "create", "organisation", org_id, org_id, kind=kind)
    return ExternalOrgPublic(code=code, name=name.strip(), kind=kind, municipality=municipality)


def external_mentors(
    session: Session, actor: Actor, municipality: str | None = None, org: str | None = None
) -> list[ExternalMentorPublic]:
    """The municipality's pool of external mentors (``municipality``), or the external mentors
    serving one school (``org``), each with the schools they serve and how."""
    if org is not None:
        school = organisation_for(session, actor, org)
        mentors = select(MentorService.mentor_id).where(MentorService.org_id == school.id)
        query = select(Person).where(Person.id.in_(mentors))
    else:
        assert municipality is not None
        actor.require_municipality(municipality)
        homes = select(Organisation.id).where(
            Organisation.municipality == municipality, Organisation.kind != "school"
        )
        query = select(Person).where(Person.org_id.in_(homes), Person.side == Side.mentor.value)
    people = session.scalars(
        query.where(Person.archived_at.is_(None))
        .order_by(Person.name, Person.id)
        .options(selectinload(Person.org))
    ).all()
    services: dict[int, list[MentorService]] = {p.id: [] for p in people}
    for service in session.scalars(
        select(MentorService)
        .where(MentorService.mentor_id.in_([p.id for p in people]))
        .options(selectinload(MentorService.org))
    ):
        services[service.mentor_id].append(service)
    return [_view(p, services[p.id]) for p in people if actor.sees(p.org) or services[p.id]]


def _external(session: Session, actor: Actor, mentor_id: int) -> Person:
    mentor = session.get(Person, mentor_id)
    if mentor is None or mentor.side != Side.mentor.value or not actor.sees(mentor.org):
        raise NotFound("mentor", mentor_id)
    if mentor.org.kind == "school":
        raise Invalid(
            f"Наставник {mentor.name or 'без имени'} — работник школы, а не внешней организации: "
            "школы обслуживают внешние наставники (колледж, предприятие).",
            [{"row": None, "column": "mentor_id", "value": mentor_id,
              "message": "выберите наставника колледжа или предприятия"}],
        )  # fmt: skip
    return mentor


def serve(
    session: Session, actor: Actor, mentor_id: int, org: str, mode: str
) -> ExternalMentorPublic:
    """Record that an external mentor serves school ``org`` in person or remotely."""
    if mode not in SERVICE_MODES:
        raise Invalid(
            f"Формат {mode!r} неизвестен; допустимы: {', '.join(SERVICE_MODES)}.",
            [{"row": None, "column": "mode", "value": mode, "message": "очно или дистанционно"}],
        )
    mentor = _external(session, actor, mentor_id)
    school = organisation_for(session, actor, org)
    if school.kind != "school":
        raise Invalid(f"{school.name} — не школа: внешние наставники обслуживают школы.")
    found = session.scalar(
        select(MentorService).where(
            MentorService.mentor_id == mentor.id, MentorService.org_id == school.id
        )
    )
    if found is None:
        found = MentorService(mentor_id=mentor.id, org_id=school.id, mode=mode)
        session.add(found)
    found.mode = mode
    found.user_id = actor.user_id
    session.flush()
    record(session, actor, "serve", "person", mentor.id, school.id, mode=mode, home=mentor.org_id)
    session.expire_all()
    return next(m for m in external_mentors(session, actor, org=org) if m.mentor_id == mentor.id)


def stop_serving(session: Session, actor: Actor, mentor_id: int, org: str) -> None:
    """The external mentor no longer serves school ``org`` (their pairs there go on)."""
    mentor = _external(session, actor, mentor_id)
    school = organisation_for(session, actor, org)
    found = session.scalar(
        select(MentorService).where(
            MentorService.mentor_id == mentor.id, MentorService.org_id == school.id
        )
    )
    if found is None:
        raise NotFound("service", mentor_id)
    session.delete(found)
    record(session, actor, "stop_serving", "person", mentor.id, school.id)


def served_codes(session: Session, org_ids: list[int]) -> dict[int, str | None]:
    """The external mentors serving any of the schools ``org_ids``: mentor id -> the school's
    code when they serve one of them in person (they count as of that school), None when only
    remotely (they stay of their own organisation)."""
    rows = session.execute(
        select(MentorService.mentor_id, MentorService.mode, Organisation.code)
        .join(Organisation, Organisation.id == MentorService.org_id)
        .where(MentorService.org_id.in_(org_ids))
        .order_by(MentorService.mentor_id, Organisation.code)
    ).all()
    found: dict[int, str | None] = {}
    for mentor_id, mode, code in rows:
        if found.get(mentor_id) is None:
            found[mentor_id] = code if mode == "in_person" else None
    return found


def may_use(session: Session, actor: Actor, mentor: Person, school_id: int) -> bool:
    """Whether ``actor`` may give ``mentor`` to a mentee of school ``school_id``: a mentor of a
    school they see, or an external mentor serving that school."""
    if actor.sees(mentor.org):
        return True
    return (
        session.scalar(
            select(MentorService.id).where(
                MentorService.mentor_id == mentor.id, MentorService.org_id == school_id
            )
        )
        is not None
    )
