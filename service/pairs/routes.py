"""API routes of pairs: decide on proposals, read pairs, end a pair, replace its mentor."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from service.core.deps import ActorDep, ListDep, SessionDep, WriteSessionDep
from service.core.listing import Page
from service.core.rules import END_REASONS
from service.core.schemas import errors
from service.pairs import pairs
from service.pairs.schemas import (
    BulkConfirm,
    BulkConfirmPublic,
    Decision,
    PairEnd,
    PairPublic,
    PairReplace,
    PairStatusName,
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
    return Decision(proposal_id=proposal.id, status="rejected")


@router.post("/proposals/{proposal_id}/undo-reject", responses=errors(409))
def undo_reject(proposal_id: int, session: WriteSessionDep, actor: ActorDep) -> Decision:
    """Undo a rejection: the proposal is open again."""
    proposal = pairs.undo_reject(session, actor, proposal_id)
    return Decision(proposal_id=proposal.id, status="open")


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
) -> Page[PairPublic]:
    """One page of a school's pairs: search by either name (`q`), filters, sort `started`,
    `mentee` or `mentor`."""
    chosen = {"status": status, "form": form, "consent": consent}
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
