"""API routes of pairs: decide on proposals, read pairs, end a pair, replace its mentor."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from service.core.deps import ActorDep, ListDep, SessionDep, WriteSessionDep
from service.core.listing import Page
from service.core.rules import END_REASONS
from service.core.schemas import errors
from service.pairs import comentors, groups, pairs, terms
from service.pairs.schemas import (
    BulkConfirm,
    BulkConfirmPublic,
    Decision,
    DemandPublic,
    DemandSet,
    FormChange,
    GroupConfirm,
    GroupConfirmPublic,
    GroupEnd,
    GroupLimitPublic,
    GroupLimitSet,
    GroupPublic,
    MemberReplace,
    PairChangePublic,
    PairEnd,
    PairFinishPublic,
    PairPublic,
    PairReplace,
    PairStatusName,
    ProposedGroup,
    TermChange,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["pairs"])


@router.post("/proposals/{proposal_id}/confirm", status_code=201, responses=errors(409))
def confirm(proposal_id: int, session: WriteSessionDep, actor: ActorDep) -> PairPublic:
    """Confirm a proposal: the pair becomes active (409 when the mentor is full, the mentee
    already has a pair, a consent is missing or the proposal was decided)."""
    return pairs.confirm(session, actor, proposal_id)


@router.post("/proposals/confirm")
def confirm_many(body: BulkConfirm, session: WriteSessionDep, actor: ActorDep) -> BulkConfirmPublic:
    """Confirm several proposals at once, each checked as a single confirmation is (its own
    savepoint): the answer lists the pairs made and the proposals refused, with the reason."""
    return pairs.confirm_many(session, actor, body.proposal_ids)


@router.post("/proposals/{proposal_id}/reject", responses=errors(409))
def reject(proposal_id: int, session: WriteSessionDep, actor: ActorDep) -> Decision:
    """Reject a proposal: this pair will not be proposed again (until the rejection is undone)."""
    proposal = pairs.reject(session, actor, proposal_id)
    return Decision(
        proposal_id=proposal.id, status="rejected", detail=pairs.decided_message(proposal)
    )


@router.post("/proposals/{proposal_id}/undo-reject", responses=errors(409))
def undo_reject(proposal_id: int, session: WriteSessionDep, actor: ActorDep) -> Decision:
    """Undo a rejection: the proposal is open again."""
    proposal = pairs.undo_reject(session, actor, proposal_id)
    return Decision(proposal_id=proposal.id, status="open", detail=pairs.decided_message(proposal))


@router.get("/orgs/{org}/pairs")
def list_pairs(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    status: Annotated[PairStatusName | None, Query()] = None,
) -> list[PairPublic]:
    """Pairs of a school: its mentees' pairs and its mentors' pairs."""
    return pairs.pairs(session, actor, org, status)


@router.get("/orgs/{org}/pairs/paged", responses=errors(422))
def page_pairs(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    params: ListDep,
    status: Annotated[PairStatusName | None, Query()] = None,
    form: Annotated[str | None, Query(description="Key of the form of mentoring.")] = None,
    consent: Annotated[
        Literal["missing"] | None, Query(description="Active pairs missing a consent.")
    ] = None,
    term: Annotated[
        Literal["ending", "overdue"] | None,
        Query(description="Active pairs ending within 14 days, or past their planned end."),
    ] = None,
    grade: Annotated[
        str | None, Query(description="Mentees of this class (a number, 1 to 11).")
    ] = None,
    subject: Annotated[
        str | None,
        Query(description="Asked by the mentee or offered by the mentor (a subject key)."),
    ] = None,
) -> Page[PairPublic]:
    """One page of a school's pairs: search by either name (`q`), filters, sort `started`,
    `mentee` or `mentor`."""
    chosen = {
        "status": status,
        "form": form,
        "consent": consent,
        "term": term,
        "grade": grade,
        "subject": subject,
    }
    filters = {k: v for k, v in chosen.items() if v}
    return pairs.pairs_page(session, actor, org, replace(params, filters=filters))


@router.get("/pairs/{pair_id}")
def get_pair(pair_id: int, session: SessionDep, actor: ActorDep) -> PairPublic:
    """One pair (through the mentee's or the mentor's school)."""
    pair, _ = pairs.pair_with_sides(session, actor, pair_id)
    return pairs.public(pair)


@router.get("/end-reasons")
def end_reasons() -> dict[str, str]:
    """Reasons for ending a pair or replacing a mentor (docs/rules.md#replacement), in Russian."""
    return END_REASONS


@router.post("/pairs/{pair_id}/end", responses=errors(409))
def end(pair_id: int, body: PairEnd, session: WriteSessionDep, actor: ActorDep) -> PairPublic:
    """End an active pair with a reason (``completed`` when the programme is done)."""
    return pairs.end_pair(session, actor, pair_id, body.reason.value)


@router.post("/pairs/{pair_id}/replace-mentor", status_code=201, responses=errors(403, 409))
def replace_mentor(
    pair_id: int, body: PairReplace, session: WriteSessionDep, actor: ActorDep
) -> PairPublic:
    """End the pair with a reason and give the mentee another mentor; returns the new pair."""
    return pairs.replace_mentor(session, actor, pair_id, body.mentor_id, body.reason.value)


# -- groups (docs/rules.md#group) -------------------------------------------------------------


@router.get("/orgs/{org}/groups", tags=["groups"])
def list_groups(
    org: str,
    session: SessionDep,
    actor: ActorDep,
    status: Annotated[Literal["active", "ended"] | None, Query()] = "active",
) -> list[GroupPublic]:
    """A school's groups (a mentor and their mentees of one form), largest first."""
    return groups.groups(session, actor, org, status)


@router.get("/orgs/{org}/mentors/{mentor_id}/groups", tags=["groups"])
def list_mentor_groups(
    org: str, mentor_id: int, session: SessionDep, actor: ActorDep
) -> list[GroupPublic]:
    """A mentor's groups, active first: their mentees form by form."""
    return groups.mentor_groups(session, actor, org, mentor_id)


@router.get("/groups/{group_id}", tags=["groups"])
def get_group(group_id: int, session: SessionDep, actor: ActorDep) -> GroupPublic:
    """One group with its active and former members."""
    return groups.group_public(session, groups.get_group(session, actor, group_id))


@router.get("/orgs/{org}/proposed-groups", tags=["groups"])
def proposed_groups(org: str, session: SessionDep, actor: ActorDep) -> list[ProposedGroup]:
    """The school's open proposals as the groups they would form (one per mentor and form)."""
    return groups.proposed_groups(session, actor, org)


@router.post("/orgs/{org}/groups/confirm", tags=["groups"], responses=errors(409))
def confirm_group(
    org: str, body: GroupConfirm, session: WriteSessionDep, actor: ActorDep
) -> GroupConfirmPublic:
    """Confirm a proposed group: every open proposal of the mentor in the form, best first, each
    checked as a single confirmation is; those without a place are listed with the reason."""
    return groups.confirm_group(session, actor, org, body.mentor_id, body.form)


@router.post(
    "/groups/{group_id}/members/{pair_id}/replace",
    tags=["groups"],
    status_code=201,
    responses=errors(409),
)
def replace_member(
    group_id: int, pair_id: int, body: MemberReplace, session: WriteSessionDep, actor: ActorDep
) -> PairPublic:
    """Replace one mentee of a group: their pair ends with the reason, the new mentee's pair
    takes the place (same mentor, form and planned end); returns the new pair."""
    return groups.replace_member(
        session, actor, group_id, pair_id, body.mentee_id, body.reason.value
    )


@router.post("/groups/{group_id}/members/{pair_id}/end", tags=["groups"], responses=errors(409))
def end_member(
    group_id: int, pair_id: int, body: PairEnd, session: WriteSessionDep, actor: ActorDep
) -> PairPublic:
    """End one member's pair with a reason; the group ends with its last member."""
    return groups.end_member(session, actor, group_id, pair_id, body.reason.value)


@router.post("/groups/{group_id}/end", tags=["groups"], responses=errors(409))
def end_group(
    group_id: int, body: GroupEnd, session: WriteSessionDep, actor: ActorDep
) -> GroupPublic:
    """End the whole group: every active member's pair, with one reason."""
    return groups.end_group(session, actor, group_id, body.reason.value)


@router.get("/orgs/{org}/group-limits", tags=["groups"])
def group_limits(org: str, session: SessionDep, actor: ActorDep) -> list[GroupLimitPublic]:
    """The largest group of each form at the school (its own setting, else the default)."""
    return groups.group_limits(session, actor, org)


@router.put("/orgs/{org}/group-limits/{form}", tags=["groups"], responses=errors(422))
def set_group_limit(
    org: str, form: str, body: GroupLimitSet, session: WriteSessionDep, actor: ActorDep
) -> GroupLimitPublic:
    """Set the largest group of a form (at most 3 for the teacher forms, docs/rules.md#group)."""
    return groups.set_group_limit(session, actor, org, form, body.max_size)


# -- terms (docs/rules.md#term) ---------------------------------------------------------------


@router.post("/pairs/{pair_id}/term", tags=["terms"], responses=errors(409, 422))
def change_term(
    pair_id: int, body: TermChange, session: WriteSessionDep, actor: ActorDep
) -> PairPublic:
    """Move a pair's planned end (an extension) within 1 month to 1 year of its start, with the
    reason both sides agreed; recorded."""
    return terms.extend_term(session, actor, pair_id, body.planned_end, body.reason)


@router.post("/groups/{group_id}/term", tags=["terms"], responses=errors(409, 422))
def change_group_term(
    group_id: int, body: TermChange, session: WriteSessionDep, actor: ActorDep
) -> GroupPublic:
    """Move the planned end of every active member of a group."""
    return terms.extend_group(session, actor, group_id, body.planned_end, body.reason)


@router.post("/pairs/{pair_id}/form", tags=["terms"], responses=errors(403, 409, 422))
def change_form(
    pair_id: int, body: FormChange, session: WriteSessionDep, actor: ActorDep
) -> PairPublic:
    """Change a pair's form by mutual consent: it moves to the mentor's group of that form."""
    return terms.change_form(session, actor, pair_id, body.form, body.reason)


@router.get("/pairs/{pair_id}/changes", tags=["terms"])
def pair_changes(pair_id: int, session: SessionDep, actor: ActorDep) -> list[PairChangePublic]:
    """The recorded changes of a pair's term and form, with the reasons."""
    return terms.changes(session, actor, pair_id)


@router.get("/pairs/{pair_id}/finish", tags=["terms"])
def finish_state(pair_id: int, session: SessionDep, actor: ActorDep) -> PairFinishPublic:
    """What ending the programme still needs: the sides whose final survey is missing."""
    return terms.finish_state(session, actor, pair_id)


@router.post("/pairs/{pair_id}/finish", tags=["terms"], responses=errors(409))
def finish(pair_id: int, session: WriteSessionDep, actor: ActorDep) -> PairFinishPublic:
    """End the programme: the pair closes as completed once both final surveys are recorded
    (409 `final_survey_missing` names the sides otherwise)."""
    return terms.finish(session, actor, pair_id)


@router.post("/groups/{group_id}/finish", tags=["terms"], responses=errors(409))
def finish_group(group_id: int, session: WriteSessionDep, actor: ActorDep) -> GroupPublic:
    """End the programme of a whole group once every member's final surveys are recorded."""
    return terms.finish_group(session, actor, group_id)


# -- co-mentors (docs/rules.md#co-mentors) ------------------------------------------------------


@router.get("/orgs/{org}/mentees/{mentee_id}/demand", tags=["groups"])
def mentee_demand(org: str, mentee_id: int, session: SessionDep, actor: ActorDep) -> DemandPublic:
    """How many distinct mentors a mentee needs at once, and their active pairs."""
    return comentors.demand_of(session, actor, org, mentee_id)


@router.put("/orgs/{org}/mentees/{mentee_id}/demand", tags=["groups"], responses=errors(409, 422))
def set_mentee_demand(
    org: str, mentee_id: int, body: DemandSet, session: WriteSessionDep, actor: ActorDep
) -> DemandPublic:
    """Set how many distinct mentors a mentee needs (1 to 3; docs/rules.md#co-mentors)."""
    return comentors.set_demand(session, actor, org, mentee_id, body.demand)
