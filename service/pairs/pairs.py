"""The life of a pair: confirm or reject a proposal, end a pair, replace its mentor; read pairs.

A pair is one member of a group: a mentor and the mentees they mentor in one form at one school
(docs/rules.md#group). Capacity is guarded three times over (docs/rules.md#capacity): the
transaction locks the rows it decides on (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
write transaction holds the database's write lock from its first statement), the mentor's and the
mentee's active pairs are counted after the lock, and the database refuses a place beyond the
group's size, a mentee's pair beyond their demand and one mentor twice for one mentee (partial
unique indexes, a foreign key to the group's size and to the mentee's demand, checks).
Every function takes the caller's ``session`` (one transaction per request).
"""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from service.core.audit import record
from service.core.db import among
from service.core.errors import (
    AlreadyDecided,
    ConcurrentChange,
    Conflict,
    Denied,
    GroupFull,
    Invalid,
    MenteeHasMentors,
    MentorFull,
    NotFound,
    PairNotActive,
    SameMentor,
)
from service.core.listing import Listing, ListParams, Page, choice, page_of, paginate
from service.core.models import (
    GroupLimit,
    GroupStatus,
    MentorGroup,
    Organisation,
    Pair,
    PairStatus,
    Person,
    Proposal,
    ProposalStatus,
    Side,
    utcnow,
)
from service.core.rules import (
    DEFAULT_TERM,
    END_REASONS,
    MAX_CAPACITY,
    MIN_TERM,
    SUPERSEDED_REASONS,
    TEACHER_FORMS,
    TERM_ENDING_DAYS,
    default_group_size,
)
from service.core.security import Actor, organisation_for
from service.pairs.schemas import BulkConfirmed, BulkConfirmPublic, BulkRefused, PairPublic
from service.people.answered import answer_filters
from service.people.external import may_use
from service.people.questionnaires import load_spec_named
from service.runs.runs import require_consent, score_pair

__all__ = [
    "PAIRS",
    "confirm",
    "confirm_many",
    "end_group_if_empty",
    "end_pair",
    "form_term",
    "group_place",
    "group_size_limit",
    "locked_active_pair",
    "locked_people",
    "new_pair",
    "pair_with_sides",
    "pairs",
    "pairs_page",
    "public",
    "reject",
    "replace_mentor",
    "school_today",
    "term_state",
    "undo_reject",
    "visible_sides",
]


def school_today() -> date:
    """Today's date in the schools' time zone (``NASTAVNIK_TIMEZONE``)."""
    from service.core.config import get_settings

    return utcnow().astimezone(get_settings().zone).date()


def term_state(pair: Pair, today: date | None = None) -> tuple[str | None, int | None]:
    """Return whether an active pair's term is ``ok``, ``ending`` (within 14 days) or
    ``overdue``, and the days left (negative when overdue); (None, None) for a pair with no
    planned end or no longer active (docs/rules.md#term)."""
    if pair.status != PairStatus.active.value or pair.planned_end is None:
        return None, None
    left = (pair.planned_end - (today or school_today())).days
    if left < 0:
        return "overdue", left
    return ("ending" if left <= TERM_ENDING_DAYS else "ok"), left


def public(pair: Pair) -> PairPublic:
    """The API shape of a pair, with both names and both schools."""
    missing: list[str] = []
    if pair.status == PairStatus.active.value:
        people = ((Side.mentee, pair.mentee), (Side.mentor, pair.mentor))
        missing = [side.value for side, person in people if not person.consent]
    term, left = term_state(pair)
    return PairPublic(
        pair_id=pair.id,
        org=pair.mentee.org.code,
        mentor_org=pair.mentor.org.code,
        mentee_id=pair.mentee_id,
        mentor_id=pair.mentor_id,
        mentee_name=pair.mentee.name,
        mentor_name=pair.mentor.name,
        form=pair.form,
        status=pair.status,
        started_at=pair.started_at,
        ended_at=pair.ended_at,
        end_reason=pair.end_reason,
        previous_pair_id=pair.previous_pair_id,
        proposal_id=pair.proposal_id,
        missing_consent=missing,
        group_id=pair.group_id,
        planned_start=pair.planned_start,
        planned_end=pair.planned_end,
        term=term,
        days_left=left,
    )


def visible_sides(session: Session, actor: Actor, pair: Pair) -> frozenset[str]:
    """Return the sides of ``pair`` whose school ``actor`` may see: ``"mentee"``, ``"mentor"``.

    A virtual pair joins two schools, and each school's curator is responsible for their own
    person: both may open the pair, record feedback of their own person and end the pair (their
    person leaves); only the mentee's school chooses the mentee a new mentor. Raises NotFound
    when the actor sees neither school.
    """
    schools = (
        (Side.mentee.value, session.get(Organisation, pair.org_id)),
        (Side.mentor.value, session.get(Organisation, pair.mentor.org_id)),
    )
    sides = frozenset(side for side, org in schools if org is not None and actor.sees(org))
    if not sides:
        raise NotFound("pair", pair.id)
    return sides


def pair_with_sides(session: Session, actor: Actor, pair_id: int) -> tuple[Pair, frozenset[str]]:
    """Return one pair the actor may see (through either school) and the sides they see."""
    pair = session.get(Pair, pair_id)
    if pair is None:
        raise NotFound("pair", pair_id)
    return pair, visible_sides(session, actor, pair)


def pairs(session: Session, actor: Actor, org: str, status: str | None = None) -> list[PairPublic]:
    """Return the pairs of a school (as the mentee's school or the mentor's), oldest first."""
    organisation = organisation_for(session, actor, org)
    mentors = select(Person.id).where(Person.org_id == organisation.id)
    query = (
        select(Pair)
        .where((Pair.org_id == organisation.id) | Pair.mentor_id.in_(mentors))
        .order_by(Pair.id)
    )
    if status is not None:
        query = query.where(Pair.status == status)
    return [public(p) for p in session.scalars(query)]


_Mentee = aliased(Person, name="mentee")
_Mentor = aliased(Person, name="mentor")

PAIRS = Listing(
    search=[_Mentee.name, _Mentor.name],
    sorts={
        "started": [Pair.started_at, Pair.id],
        "mentee": [_Mentee.name, Pair.id],
        "mentor": [_Mentor.name, Pair.id],
    },
    sort_columns={"started": "Дата начала", "mentee": "Наставляемый", "mentor": "Наставник"},
    filters={
        "status": choice(Pair.status, {s.value: s.value for s in PairStatus}, "Состояние"),
        "form": lambda value: Pair.form == value,
        "term": lambda value: _term_filter(value),
        **answer_filters(_Mentee, _Mentor),
        "consent": choice(
            Pair.status,
            {"missing": (Pair.status == PairStatus.active.value) & ~(_Mentee.consent & _Mentor.consent)},
            "Согласие",
        ),
    },
    sort_titles={"started": "давние сначала", "-started": "новые сначала",
                 "mentee": "по наставляемому", "mentor": "по наставнику"},
)  # fmt: skip


def _term_filter(value: str) -> ColumnElement[bool]:
    """Active pairs whose term ends within 14 days (``ending``) or is past (``overdue``)."""
    today = school_today()
    active = Pair.status == PairStatus.active.value
    allowed = {
        "ending": active
        & (Pair.planned_end >= today)
        & (Pair.planned_end <= today + timedelta(days=TERM_ENDING_DAYS)),
        "overdue": active & (Pair.planned_end < today),
    }
    return choice(Pair.planned_end, allowed, "Срок")(value)


def pairs_page(session: Session, actor: Actor, org: str, params: ListParams) -> Page[PairPublic]:
    """One page of a school's pairs (as the mentee's school or the mentor's): searched by either
    name, filtered by state or form, sorted."""
    organisation = organisation_for(session, actor, org)
    # The school's mentors by id (one indexed read), not ``_Mentor.org_id == ...``: an OR across
    # the two joined tables makes PostgreSQL scan every pair and every person of the database
    # (27 ms at 50 schools, growing with the region); pairs by org_id or mentor_id use indexes.
    mentors = session.scalars(
        select(Person.id).where(Person.org_id == organisation.id, Person.side == Side.mentor.value)
    ).all()
    query = (
        select(Pair)
        .join(_Mentee, _Mentee.id == Pair.mentee_id)
        .join(_Mentor, _Mentor.id == Pair.mentor_id)
        .where((Pair.org_id == organisation.id) | among(Pair.mentor_id, mentors))
        .options(
            # many-to-one: joined into the page's one statement (selectinload took four more)
            joinedload(Pair.mentee).joinedload(Person.org),
            joinedload(Pair.mentor).joinedload(Person.org),
        )
    )
    found, total = paginate(session, query, PAIRS, params)
    return page_of([public(p) for p in found], params, total)


def has_active_pairs(session: Session, actor: Actor, org: str) -> bool:
    """Whether school ``org`` has an active pair (as the mentee's school or the mentor's)."""
    organisation = organisation_for(session, actor, org)
    mentors = select(Person.id).where(
        Person.org_id == organisation.id, Person.side == Side.mentor.value
    )
    found = session.scalar(
        select(Pair.id)
        .where(
            Pair.status == PairStatus.active.value,
            (Pair.org_id == organisation.id) | Pair.mentor_id.in_(mentors),
        )
        .limit(1)
    )
    return found is not None


def _visible_org(session: Session, actor: Actor, org_id: int, entity: str, key: int) -> None:
    org = session.get(Organisation, org_id)
    if org is None or not actor.sees(org):
        raise NotFound(entity, key)


def locked_people(session: Session, *ids: int) -> dict[int, Person]:
    # Always in id order, so that two transactions never wait for each other in a cycle.
    people = session.scalars(
        select(Person)
        .where(among(Person.id, ids))
        .order_by(Person.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {p.id: p for p in people}


def form_term(spec: str, form: str) -> tuple[relativedelta, relativedelta]:
    """The shortest and the longest term of a form of the spec (docs/rules.md#form-term), within
    one month to one year (docs/rules.md#term); the full range for a form the spec lacks."""
    try:
        forms = {f.key: f for f in load_spec_named(spec).forms}
    except (KeyError, ValueError, OSError):
        forms = {}
    found = forms.get(form)
    term = getattr(found, "term", None)
    if term is None:
        return MIN_TERM, DEFAULT_TERM
    return relativedelta(months=term.min_months), relativedelta(months=term.max_months)


def group_size_limit(session: Session, org_id: int, form: str) -> int:
    """The largest group of ``form`` at a school: the school's own setting, else the default;
    never above three for a teacher form (docs/rules.md#group)."""
    own = session.scalar(
        select(GroupLimit.max_size).where(GroupLimit.org_id == org_id, GroupLimit.form == form)
    )
    size = default_group_size(form) if own is None else own
    return min(size, MAX_CAPACITY) if form in TEACHER_FORMS else size


def _active_group(session: Session, mentor_id: int, form: str, org_id: int) -> MentorGroup | None:
    return session.scalar(
        select(MentorGroup).where(
            MentorGroup.mentor_id == mentor_id,
            MentorGroup.form == form,
            MentorGroup.org_id == org_id,
            MentorGroup.status == GroupStatus.active.value,
        )
    )


def _take_place(
    session: Session, actor: Actor, mentor: Person, org_id: int, form: str
) -> tuple[MentorGroup, int]:
    """Return the mentor's group of ``form`` at the school (formed when there is none) and a
    free place in it, or raise MentorFull / GroupFull; call with the mentor locked."""
    load = session.scalar(
        select(func.count(Pair.id)).where(
            Pair.mentor_id == mentor.id, Pair.status == PairStatus.active.value
        )
    )
    places = mentor.places()
    if (load or 0) >= places:
        raise MentorFull(mentor.id, mentor.name, load or 0, places)
    return group_place(session, actor, mentor, org_id, form)


def group_place(
    session: Session, actor: Actor, mentor: Person, org_id: int, form: str
) -> tuple[MentorGroup, int]:
    """Return the mentor's active group of ``form`` at the school (formed when there is none)
    and a free place in it, or raise GroupFull; call with the mentor locked."""
    group = _active_group(session, mentor.id, form, org_id)
    if group is None:
        group = MentorGroup(
            org_id=org_id,
            mentor_id=mentor.id,
            form=form,
            size_limit=group_size_limit(session, org_id, form),
            created_by=actor.user_id,
        )
        session.add(group)
        session.flush()
    taken = set(
        session.scalars(
            select(Pair.place).where(
                Pair.group_id == group.id, Pair.status == PairStatus.active.value
            )
        )
    )
    if len(taken) >= group.size_limit:
        raise GroupFull(mentor.id, mentor.name, form, group.size_limit)
    return group, min(set(range(1, group.size_limit + 1)) - taken)


def _mentee_place(session: Session, mentee: Person, mentor_id: int) -> int:
    """Return a free place among the mentee's mentors (1..demand) or raise MenteeHasMentors /
    SameMentor; call with the mentee locked (docs/rules.md#co-mentors)."""
    current = session.scalars(
        select(Pair)
        .where(Pair.mentee_id == mentee.id, Pair.status == PairStatus.active.value)
        .order_by(Pair.mentee_place)
    ).all()
    if len(current) >= mentee.demand:
        names = [p.mentor.name or "наставник без имени" for p in current]
        raise MenteeHasMentors(mentee.id, mentee.name, names, mentee.demand)
    for pair in current:
        if pair.mentor_id == mentor_id:
            raise SameMentor(mentee.name, pair.mentor.name)
    return min(set(range(1, mentee.demand + 1)) - {p.mentee_place for p in current})


def new_pair(
    session: Session,
    actor: Actor,
    mentee: Person,
    mentor: Person,
    org_id: int,
    form: str,
    **fields: object,
) -> Pair:
    """Add an active pair of ``mentee`` and ``mentor`` to the mentor's group of ``form`` at the
    school, with a planned term from today; call with both people locked."""
    mentee_place = _mentee_place(session, mentee, mentor.id)
    group, place = _take_place(session, actor, mentor, org_id, form)
    start = school_today()
    _, longest = form_term(mentee.spec, form)
    pair = Pair(
        org_id=org_id,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        form=form,
        place=place,
        group_id=group.id,
        group_size=group.size_limit,
        mentee_place=mentee_place,
        mentee_demand=mentee.demand,
        planned_start=start,
        planned_end=start + longest - timedelta(days=1),
        created_by=actor.user_id,
        **fields,
    )
    _insert_pair(session, pair)
    return pair


def _insert_pair(session: Session, pair: Pair) -> None:
    try:
        with session.begin_nested():
            session.add(pair)
            session.flush()
    except IntegrityError as exc:  # another transaction took the place first
        raise ConcurrentChange(
            what="Пару не удалось создать: данные изменились одновременно. Обновите страницу."
        ) from exc


def _locked_proposal(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """The proposal, locked for this transaction (a second curator deciding on it waits)."""
    proposal = session.scalar(
        select(Proposal)
        .where(Proposal.id == proposal_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if proposal is None:
        raise NotFound("proposal", proposal_id)
    _visible_org(session, actor, proposal.org_id, "proposal", proposal_id)
    return proposal


def confirm(session: Session, actor: Actor, proposal_id: int) -> PairPublic:
    """Turn an open proposal into an active pair.

    Raises
    ------
    NotFound
        When the proposal does not exist or is another school's.
    AlreadyDecided, MentorFull, GroupFull, MenteeHasMentors, SameMentor, NoConsent
        When the current state forbids the pair.
    """
    proposal = _locked_proposal(session, actor, proposal_id)
    if proposal.status == ProposalStatus.superseded.value:
        # Withdrawing a consent supersedes the person's proposals: say so, not just "decided".
        require_consent(proposal.mentee)
        require_consent(proposal.mentor)
        # Superseded because of a pair confirmed since: answer as a single confirmation would.
        if proposal.status_reason == "mentee_paired":
            _mentee_place(session, proposal.mentee, proposal.mentor_id)
        if proposal.status_reason in ("mentor_full", "group_full"):
            with session.begin_nested():  # only to raise why; nothing is kept
                _take_place(
                    session, actor, proposal.mentor, proposal.org_id,
                    proposal.form or proposal.mentee.spec,
                )  # fmt: skip
    if proposal.status != ProposalStatus.open.value:
        existing = session.scalar(select(Pair.id).where(Pair.proposal_id == proposal.id))
        why = SUPERSEDED_REASONS.get(proposal.status_reason or "")
        raise AlreadyDecided(proposal.id, proposal.status, existing, why=why)
    people = locked_people(session, proposal.mentee_id, proposal.mentor_id)
    mentee, mentor = people[proposal.mentee_id], people[proposal.mentor_id]
    require_consent(mentee)
    require_consent(mentor)
    pair = new_pair(
        session, actor, mentee, mentor, proposal.org_id, proposal.form or mentee.spec,
        proposal_id=proposal.id,
    )  # fmt: skip
    proposal.status = ProposalStatus.confirmed.value
    proposal.decided_at = utcnow()
    proposal.decided_by = actor.user_id
    stale = _supersede_stale(session, actor, proposal, mentor, mentee, pair)
    record(
        session, actor, "confirm", "proposal", proposal.id, proposal.org_id,
        pair=pair.id, superseded=stale,
    )  # fmt: skip
    return public(pair)


def _active_count(session: Session, *where: ColumnElement[bool]) -> int:
    return int(
        session.scalar(
            select(func.count(Pair.id)).where(Pair.status == PairStatus.active.value, *where)
        )
        or 0
    )


def _supersede_stale(
    session: Session, actor: Actor, done: Proposal, mentor: Person, mentee: Person, pair: Pair
) -> list[int]:
    """Mark superseded, with the reason, the open proposals a confirmed pair made impossible:
    the mentee's others once they have all the mentors they need, the same mentor's others of
    this mentee, the mentor's when their last place is taken, and the group's form's when the
    group is full.

    Rows another transaction is deciding on right now are skipped (``SKIP LOCKED``): locking them
    after the people would invert the lock order of a confirmation (a deadlock); that decision
    fails on its own (the mentee has a pair, the mentor is full).
    """
    full = _active_count(session, Pair.mentor_id == mentor.id) >= mentor.places()
    reasons: list[tuple[str, ColumnElement[bool]]] = [
        (
            "mentee_paired",
            (Proposal.mentee_id == done.mentee_id) & (Proposal.mentor_id == done.mentor_id),
        )
    ]
    if _active_count(session, Pair.mentee_id == mentee.id) >= mentee.demand:
        reasons.append(("mentee_paired", Proposal.mentee_id == done.mentee_id))
    if full:
        reasons.append(("mentor_full", Proposal.mentor_id == mentor.id))
    elif _active_count(session, Pair.group_id == pair.group_id) >= (pair.group_size or 0):
        reasons.append(
            (
                "group_full",
                (Proposal.mentor_id == mentor.id)
                & (Proposal.form == pair.form)
                & (Proposal.org_id == pair.org_id),
            )
        )
    superseded: list[int] = []
    for reason, involved in reasons:
        stale = session.scalars(
            select(Proposal)
            .where(involved, Proposal.status == ProposalStatus.open.value, Proposal.id != done.id)
            .order_by(Proposal.id)
            .with_for_update(skip_locked=True)
        ).all()
        for proposal in stale:
            proposal.status = ProposalStatus.superseded.value
            proposal.status_reason = reason
            proposal.decided_at = utcnow()
            proposal.decided_by = actor.user_id
            superseded.append(proposal.id)
    return superseded


def confirm_many(session: Session, actor: Actor, proposal_ids: list[int]) -> BulkConfirmPublic:
    """Confirm several proposals at once, each checked as a single confirmation is, in its own
    savepoint: one that fails is undone alone and listed with the reason, by name.

    Proposals are taken in the order given (the pages send them best first); a later proposal
    of a mentee paired by an earlier one is refused as superseded.
    """
    confirmed: list[BulkConfirmed] = []
    refused: list[BulkRefused] = []
    for proposal_id in dict.fromkeys(proposal_ids):
        try:
            with session.begin_nested():
                pair = confirm(session, actor, proposal_id)
        except (Conflict, NotFound) as exc:
            found = session.get(Proposal, proposal_id)
            visible = found is not None and not isinstance(exc, NotFound)
            refused.append(
                BulkRefused(
                    proposal_id=proposal_id,
                    mentee_name=found.mentee.name if visible and found else None,
                    mentor_name=found.mentor.name if visible and found else None,
                    code=exc.code,
                    reason=exc.message,
                )
            )
            continue
        confirmed.append(
            BulkConfirmed(
                proposal_id=proposal_id,
                pair_id=pair.pair_id,
                mentee_name=pair.mentee_name,
                mentor_name=pair.mentor_name,
            )
        )
    return BulkConfirmPublic(confirmed=confirmed, refused=refused)


def reject(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """Reject an open proposal: the same pair is never proposed again (until undone)."""
    proposal = _locked_proposal(session, actor, proposal_id)
    if proposal.status not in (ProposalStatus.open.value, ProposalStatus.superseded.value):
        raise AlreadyDecided(proposal.id, proposal.status)
    proposal.status = ProposalStatus.rejected.value
    proposal.status_reason = None
    proposal.decided_at = utcnow()
    proposal.decided_by = actor.user_id
    record(session, actor, "reject", "proposal", proposal.id, proposal.org_id)
    return proposal


def decided_message(proposal: Proposal) -> str:
    """What a curator reads after rejecting a proposal or undoing the rejection, naming the pair
    (the page's message and the API's ``detail``)."""
    mentor = proposal.mentor.name or f"без имени (№ {proposal.mentor.external_id} в анкетах)"
    mentee = proposal.mentee.name or f"без имени (№ {proposal.mentee.external_id} в анкетах)"
    named = f"наставник {mentor} — наставляемый {mentee}"
    if proposal.status == ProposalStatus.rejected.value:
        return f"Пара отклонена ({named}): она больше не будет предложена."
    return f"Отклонение отменено ({named}): предложение снова ожидает решения."


def undo_reject(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """Undo a rejection: the proposal is open again and the pair may be proposed again."""
    proposal = _locked_proposal(session, actor, proposal_id)
    if proposal.status != ProposalStatus.rejected.value:
        raise AlreadyDecided(proposal.id, proposal.status, why="отменить можно только отклонение")
    proposal.status = ProposalStatus.open.value
    proposal.status_reason = None
    proposal.decided_at = None
    proposal.decided_by = None
    record(session, actor, "undo_reject", "proposal", proposal.id, proposal.org_id)
    return proposal


def locked_active_pair(session: Session, actor: Actor, pair_id: int) -> tuple[Pair, frozenset[str]]:
    pair = session.scalar(
        select(Pair)
        .where(Pair.id == pair_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if pair is None:
        raise NotFound("pair", pair_id)
    sides = visible_sides(session, actor, pair)
    if pair.status != PairStatus.active.value:
        raise PairNotActive(pair.id, pair.status)
    return pair, sides


def _require_mentee_side(sides: frozenset[str]) -> None:
    if Side.mentee.value not in sides:
        raise Denied("заменить наставника может куратор школы наставляемого")


def _check_reason(reason: str) -> None:
    if reason not in END_REASONS:
        allowed = ", ".join(END_REASONS)
        raise Invalid(
            f"Неизвестная причина {reason!r}; допустимы: {allowed}.",
            [
                {
                    "row": None,
                    "column": "reason",
                    "value": reason,
                    "message": f"допустимы: {allowed}",
                }
            ],
        )


def _close(pair: Pair, reason: str, session: Session | None = None) -> None:
    """Close a pair with ``reason``; its group ends with its last active member."""
    pair.status = (PairStatus.completed if reason == "completed" else PairStatus.ended).value
    pair.ended_at = utcnow()
    pair.end_reason = reason
    if session is not None and pair.group_id is not None:
        end_group_if_empty(session, pair.group_id, reason)


def end_group_if_empty(session: Session, group_id: int, reason: str) -> None:
    """End a group that has no active member left."""
    session.flush()
    if _active_count(session, Pair.group_id == group_id) == 0:
        group = session.get(MentorGroup, group_id)
        if group is not None and group.status == GroupStatus.active.value:
            group.status = GroupStatus.ended.value
            group.ended_at = utcnow()
            group.end_reason = reason


def end_pair(session: Session, actor: Actor, pair_id: int, reason: str) -> PairPublic:
    """End an active pair: ``completed`` for a finished programme, else ended with the reason.

    Either school of a virtual pair may end it: the mentor's school learns first that its mentor
    leaves (the end of a contract, a transfer), and the mentee then waits for a new mentor.
    """
    _check_reason(reason)
    pair, _ = locked_active_pair(session, actor, pair_id)
    _close(pair, reason, session)
    record(session, actor, "end", "pair", pair.id, pair.org_id, reason=reason)
    return public(pair)


def replace_mentor(
    session: Session, actor: Actor, pair_id: int, mentor_id: int, reason: str
) -> PairPublic:
    """End a pair with ``reason`` and start a new one of the same mentee with another mentor.

    The old pair stays in the history; the new one refers to it by ``previous_pair_id``.
    Only the mentee's school replaces the mentor (:class:`Denied` for the mentor's school of a
    virtual pair): finding the mentee a mentor is the mentee's curator's task.
    """
    _check_reason(reason)
    if reason == "completed":
        raise Invalid(
            "Причина замены не может быть «программа завершена».",
            [{"row": None, "column": "reason", "value": reason,
              "message": "выберите причину замены наставника"}],
        )  # fmt: skip
    mentor = session.get(Person, mentor_id)
    if mentor is None or mentor.side != Side.mentor.value:
        raise NotFound("mentor", mentor_id)
    pair, sides = locked_active_pair(session, actor, pair_id)
    if not may_use(session, actor, mentor, pair.org_id):  # of a school seen, or serving it
        raise NotFound("mentor", mentor_id)
    _require_mentee_side(sides)
    if mentor_id == pair.mentor_id:
        raise Conflict("same_mentor", "Новый наставник совпадает с прежним.")
    people = locked_people(session, pair.mentee_id, mentor_id)
    mentee, mentor = people[pair.mentee_id], people[mentor_id]
    score_pair(session, mentee, mentor)  # consent and the hard rules
    _close(pair, reason, session)
    session.flush()  # free the mentee's active slot before the new pair takes it
    new = new_pair(session, actor, mentee, mentor, pair.org_id, pair.form, previous_pair_id=pair.id)
    # the mentee's programme goes on: the new pair keeps the planned end
    if pair.planned_end and new.planned_start and pair.planned_end > new.planned_start:
        new.planned_end = pair.planned_end
    record(
        session,
        actor,
        "replace_mentor",
        "pair",
        pair.id,
        pair.org_id,
        reason=reason,
        new_pair=new.id,
        old_mentor=pair.mentor_id,
        new_mentor=mentor.id,
    )
    return public(new)
