"""Groups: a mentor and the mentees they mentor in one form at one school (docs/rules.md#group).

A group is formed by its first confirmed pair and ends with its last; its members are pairs, so
everything a pair has (feedback, plan, meetings, final reports) is kept per member. Here: read a
school's and a mentor's groups, the open proposals grouped as they would form groups, confirm a
group at once, replace one member, end one member or the whole group, and the largest group of
each form a school allows.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from service.core.audit import record
from service.core.errors import Conflict, Invalid, NotFound, PairNotActive
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
    MAX_CAPACITY,
    MAX_GROUP_SIZE,
    REPLACE_REASONS,
    TEACHER_FORMS,
    default_group_size,
    form_title,
    mentoring_forms,
)
from service.core.security import Actor, organisation_for
from service.pairs import pairs as pair_life
from service.pairs.schemas import (
    GroupConfirmPublic,
    GroupLimitPublic,
    GroupPublic,
    PairPublic,
    ProposedGroup,
    ProposedMember,
)
from service.runs.runs import score_pair

__all__ = [
    "confirm_group",
    "end_group",
    "end_member",
    "get_group",
    "group_limits",
    "group_public",
    "groups",
    "locked_group",
    "mentor_groups",
    "proposed_groups",
    "replace_member",
    "set_group_limit",
]


def group_public(session: Session, group: MentorGroup) -> GroupPublic:
    """The API shape of a group: its mentor, form, size and active members (with their terms)."""
    members = session.scalars(
        select(Pair)
        .where(Pair.group_id == group.id)
        .order_by(Pair.status != PairStatus.active.value, Pair.place, Pair.id)
        .options(selectinload(Pair.mentee).selectinload(Person.org))
    ).all()
    views = [pair_life.public(p) for p in members]
    active = [v for v in views if v.status == PairStatus.active.value]
    return GroupPublic(
        group_id=group.id,
        org=group.org.code,
        mentor_org=group.mentor.org.code,
        mentor_id=group.mentor_id,
        mentor_name=group.mentor.name,
        form=group.form,
        form_title=form_title(group.form),
        size_limit=group.size_limit,
        status=group.status,
        created_at=group.created_at,
        ended_at=group.ended_at,
        end_reason=group.end_reason,
        members=active,
        former_members=[v for v in views if v.status != PairStatus.active.value],
        ending=sum(v.term == "ending" for v in active),
        overdue=sum(v.term == "overdue" for v in active),
    )


def _visible(session: Session, actor: Actor, group: MentorGroup) -> bool:
    schools = (session.get(Organisation, group.org_id), group.mentor.org)
    return any(org is not None and actor.sees(org) for org in schools)


def get_group(session: Session, actor: Actor, group_id: int) -> MentorGroup:
    """One group the actor may see (through its school or its mentor's), else NotFound."""
    group = session.get(MentorGroup, group_id)
    if group is None or not _visible(session, actor, group):
        raise NotFound("group", group_id)
    return group


def locked_group(session: Session, actor: Actor, group_id: int) -> MentorGroup:
    """The group locked for this transaction (its members' changes queue behind each other)."""
    group = session.scalar(
        select(MentorGroup)
        .where(MentorGroup.id == group_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if group is None or not _visible(session, actor, group):
        raise NotFound("group", group_id)
    return group


def groups(
    session: Session, actor: Actor, org: str, status: str | None = GroupStatus.active.value
) -> list[GroupPublic]:
    """The groups of a school (its mentees' groups and its mentors'), largest first."""
    organisation = organisation_for(session, actor, org)
    mentors = select(Person.id).where(Person.org_id == organisation.id)
    query = select(MentorGroup).where(
        (MentorGroup.org_id == organisation.id) | MentorGroup.mentor_id.in_(mentors)
    )
    if status is not None:
        query = query.where(MentorGroup.status == status)
    found = [group_public(session, g) for g in session.scalars(query.order_by(MentorGroup.id))]
    return sorted(found, key=lambda g: (-len(g.members), g.group_id))


def mentor_groups(session: Session, actor: Actor, org: str, mentor_id: int) -> list[GroupPublic]:
    """A mentor's groups (active first): the mentees they mentor, form by form."""
    organisation = organisation_for(session, actor, org)
    mentor = session.get(Person, mentor_id)
    if mentor is None or mentor.side != Side.mentor.value or mentor.org_id != organisation.id:
        raise NotFound("mentor", mentor_id)
    query = (
        select(MentorGroup)
        .where(MentorGroup.mentor_id == mentor_id)
        .order_by(MentorGroup.status, MentorGroup.id.desc())
    )
    return [group_public(session, g) for g in session.scalars(query)]


def proposed_groups(session: Session, actor: Actor, org: str) -> list[ProposedGroup]:
    """The school's open proposals as the groups they would form: one per mentor and form,
    best proposal first, with the places the mentor's group has left."""
    organisation = organisation_for(session, actor, org)
    proposals = session.scalars(
        select(Proposal)
        .where(Proposal.org_id == organisation.id, Proposal.status == ProposalStatus.open.value)
        .order_by(Proposal.score.desc(), Proposal.id)
        .options(selectinload(Proposal.mentee), selectinload(Proposal.mentor))
    ).all()
    by_group: dict[tuple[int, str], list[Proposal]] = defaultdict(list)
    for proposal in proposals:
        by_group[(proposal.mentor_id, proposal.form or proposal.mentee.spec)].append(proposal)
    found = []
    for (mentor_id, form), members in by_group.items():
        mentor = members[0].mentor
        size = pair_life.group_size_limit(session, organisation.id, form)
        current = session.scalar(
            select(MentorGroup).where(
                MentorGroup.mentor_id == mentor_id,
                MentorGroup.form == form,
                MentorGroup.org_id == organisation.id,
                MentorGroup.status == GroupStatus.active.value,
            )
        )
        taken = 0
        if current is not None:
            size = current.size_limit
            taken = len(
                session.scalars(
                    select(Pair.id).where(
                        Pair.group_id == current.id, Pair.status == PairStatus.active.value
                    )
                ).all()
            )
        found.append(
            ProposedGroup(
                mentor_id=mentor_id,
                mentor_name=mentor.name,
                form=form,
                form_title=form_title(form),
                group_id=current.id if current is not None else None,
                size_limit=size,
                members_now=taken,
                proposals=[
                    ProposedMember(
                        proposal_id=p.id,
                        mentee_id=p.mentee_id,
                        mentee_name=p.mentee.name,
                        score=p.score,
                        reasons=[str(r) for r in p.reasons],
                    )
                    for p in members
                ],
            )
        )
    return sorted(found, key=lambda g: (-len(g.proposals), g.mentor_name or "", g.form))


def confirm_group(
    session: Session, actor: Actor, org: str, mentor_id: int, form: str
) -> GroupConfirmPublic:
    """Confirm every open proposal of one mentor in one form at the school, best first, each
    as a single confirmation is: those the group has no place for are refused, with the reason."""
    organisation = organisation_for(session, actor, org)
    ids = list(
        session.scalars(
            select(Proposal.id)
            .where(
                Proposal.org_id == organisation.id,
                Proposal.mentor_id == mentor_id,
                Proposal.form == form,
                Proposal.status == ProposalStatus.open.value,
            )
            .order_by(Proposal.score.desc(), Proposal.id)
        )
    )
    if not ids:
        raise NotFound("proposed group", mentor_id)
    done = pair_life.confirm_many(session, actor, ids)
    group = session.scalar(
        select(MentorGroup).where(
            MentorGroup.mentor_id == mentor_id,
            MentorGroup.form == form,
            MentorGroup.org_id == organisation.id,
            MentorGroup.status == GroupStatus.active.value,
        )
    )
    view = group_public(session, group) if group is not None else None
    record(
        session, actor, "confirm_group", "group", group.id if group else None, organisation.id,
        confirmed=[c.pair_id for c in done.confirmed], refused=[r.proposal_id for r in done.refused],
    )  # fmt: skip
    return GroupConfirmPublic(group=view, confirmed=done.confirmed, refused=done.refused)


def _member(session: Session, group: MentorGroup, pair_id: int) -> Pair:
    pair = session.get(Pair, pair_id)
    if pair is None or pair.group_id != group.id:
        raise NotFound("group member", pair_id)
    return pair


def replace_member(
    session: Session, actor: Actor, group_id: int, pair_id: int, mentee_id: int, reason: str
) -> PairPublic:
    """Replace one mentee of a group: their pair ends with ``reason`` and the new mentee takes
    the place, with the same mentor, form and planned end. The group goes on."""
    if reason not in REPLACE_REASONS:
        allowed = ", ".join(REPLACE_REASONS)
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
    group = locked_group(session, actor, group_id)
    old = _member(session, group, pair_id)
    if old.status != PairStatus.active.value:
        raise PairNotActive(old.id, old.status)
    newcomer = session.get(Person, mentee_id)
    if newcomer is None or newcomer.side != Side.mentee.value or not actor.sees(newcomer.org):
        raise NotFound("mentee", mentee_id)
    if newcomer.id == old.mentee_id:
        raise Conflict("same_mentee", "Новый участник группы совпадает с прежним.")
    people = pair_life.locked_people(session, mentee_id, group.mentor_id)
    mentee, mentor = people[mentee_id], people[group.mentor_id]
    score_pair(session, mentee, mentor)  # consent and the hard rules
    old.status = PairStatus.ended.value
    old.ended_at = utcnow()
    old.end_reason = reason
    session.flush()  # the place is free for the newcomer; the group stays active
    new = pair_life.new_pair(session, actor, mentee, mentor, group.org_id, group.form)
    if old.planned_end and new.planned_start and old.planned_end > new.planned_start:
        new.planned_end = old.planned_end
    record(
        session, actor, "replace_member", "group", group.id, group.org_id,
        reason=reason, old_pair=old.id, new_pair=new.id, old_mentee=old.mentee_id,
        new_mentee=mentee.id,
    )  # fmt: skip
    return pair_life.public(new)


def end_member(
    session: Session, actor: Actor, group_id: int, pair_id: int, reason: str
) -> PairPublic:
    """End one member's pair with ``reason``; the group ends with its last member."""
    group = locked_group(session, actor, group_id)
    _member(session, group, pair_id)
    return pair_life.end_pair(session, actor, pair_id, reason)


def end_group(session: Session, actor: Actor, group_id: int, reason: str) -> GroupPublic:
    """End every active member of a group with ``reason``, and the group with them."""
    group = locked_group(session, actor, group_id)
    if group.status != GroupStatus.active.value:
        raise Conflict("group_not_active", "Группа уже не действует.")
    members = session.scalars(
        select(Pair.id).where(Pair.group_id == group.id, Pair.status == PairStatus.active.value)
    ).all()
    for pair_id in members:
        pair_life.end_pair(session, actor, pair_id, reason)
    if group.status == GroupStatus.active.value:  # a group with no active member left
        group.status = GroupStatus.ended.value
        group.ended_at = utcnow()
        group.end_reason = reason
    record(session, actor, "end_group", "group", group.id, group.org_id, reason=reason)
    return group_public(session, group)


def _limit_view(form: str, own: int | None) -> GroupLimitPublic:
    teacher = form in TEACHER_FORMS
    default = default_group_size(form)
    size = default if own is None else own
    return GroupLimitPublic(
        form=form,
        form_title=form_title(form),
        max_size=min(size, MAX_CAPACITY) if teacher else size,
        default=default,
        own=own,
        ceiling=MAX_CAPACITY if teacher else MAX_GROUP_SIZE,
    )


def group_limits(session: Session, actor: Actor, org: str) -> list[GroupLimitPublic]:
    """The largest group of each form at a school: its own setting or the default."""
    organisation = organisation_for(session, actor, org)
    own = dict(
        session.execute(
            select(GroupLimit.form, GroupLimit.max_size).where(GroupLimit.org_id == organisation.id)
        ).all()
    )
    forms = list(mentoring_forms()) + [f for f in own if f not in mentoring_forms()]
    return [_limit_view(form, own.get(form)) for form in forms]


def set_group_limit(
    session: Session, actor: Actor, org: str, form: str, max_size: int
) -> GroupLimitPublic:
    """Set the largest group of ``form`` at a school (as its Положение says).

    A teacher form allows at most three (docs/rules.md#group). The school's active groups of the form take
    the new size; a group already larger keeps its members and takes no one new.
    """
    organisation = organisation_for(session, actor, org)
    ceiling = MAX_CAPACITY if form in TEACHER_FORMS else MAX_GROUP_SIZE
    if form not in mentoring_forms():
        raise Invalid(
            f"Неизвестная форма наставничества {form!r}.",
            [{"row": None, "column": "form", "value": form, "message": "нет такой формы"}],
        )
    if not 1 <= max_size <= ceiling:
        why = (
            "для педагогических работников не больше трёх (п. 3.7 положения)"
            if form in TEACHER_FORMS
            else f"от 1 до {MAX_GROUP_SIZE}"
        )
        raise Invalid(
            f"Размер группы в форме «{form_title(form)}»: {why}; получено {max_size}.",
            [{"row": None, "column": "max_size", "value": max_size, "message": why}],
        )
    limit = session.scalar(
        select(GroupLimit).where(GroupLimit.org_id == organisation.id, GroupLimit.form == form)
    )
    if limit is None:
        limit = GroupLimit(org_id=organisation.id, form=form, max_size=max_size)
        session.add(limit)
    limit.max_size = max_size
    limit.user_id = actor.user_id
    limit.updated_at = utcnow()
    active = session.scalars(
        select(MentorGroup)
        .where(
            MentorGroup.org_id == organisation.id,
            MentorGroup.form == form,
            MentorGroup.status == GroupStatus.active.value,
        )
        .with_for_update()
    ).all()
    for group in active:
        highest = max(
            session.scalars(
                select(Pair.place).where(
                    Pair.group_id == group.id, Pair.status == PairStatus.active.value
                )
            ).all(),
            default=0,
        )
        # the pairs' copy of the size follows by ON UPDATE CASCADE
        session.execute(
            update(MentorGroup)
            .where(MentorGroup.id == group.id)
            .values(size_limit=max(max_size, highest))
        )
    record(
        session, actor, "group_limit", "organisation", organisation.id, organisation.id,
        form=form, max_size=max_size,
    )  # fmt: skip
    session.expire_all()
    return _limit_view(form, max_size)
