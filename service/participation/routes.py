"""API of participants' links: the curator's invitations and the participant's own requests.

The curator's routes use the usual bearer token. A participant's routes are under
``/api/v1/links/{token}``: the signed link itself is the credential, and it opens its own
person's questionnaire, consent or pair only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from service.core.deps import ActorDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import LinkExpired, LinkRefused, NotFound
from service.core.models import Invitation, LinkPurpose, utcnow
from service.core.schemas import errors
from service.pairs.pairs import pair_with_sides
from service.participation import answering, choosing, consenting, links, pairwork
from service.participation.schemas import (
    ChoicePublic,
    ChoiceView,
    ConsentByLink,
    FinalReportCreate,
    FinalReportPublic,
    FlagPublic,
    InvitationCreate,
    InvitationPublic,
    LinkView,
    MeetingCreate,
    MeetingPublic,
    MonthlyFeedback,
    PairWork,
    PlanCreate,
    PlanPublic,
    QuestionnaireView,
    RankingCreate,
    RemindersPublic,
    ResponseCreate,
    SchoolLinkCreate,
)

__all__ = ["client_address", "failure_limit", "router"]

router = APIRouter(prefix="/api/v1", tags=["participation"])
LINK_ERRORS = errors(403, 410, 429)


def failure_limit(request: Request) -> links.FailureLimit:
    """The application's counter of failed link openings (one per process)."""
    state = request.app.state
    if getattr(state, "link_failures", None) is None:
        state.link_failures = links.FailureLimit(state.settings.link_failures)
    return state.link_failures


def client_address(request: Request) -> str:
    """The client's address (the connection's; a proxy's header is not trusted)."""
    return request.client.host if request.client else "unknown"


def opened(
    request: Request, session: Any, token: str, purposes: set[str] | None = None
) -> Invitation:
    """Open a link, counting a failure of the client's address; raise when refused."""
    limit, address = failure_limit(request), client_address(request)
    limit.check(address)
    try:
        return links.open_link(session, request.app.state.settings.secret_key, token, purposes)
    except (LinkRefused, LinkExpired):
        limit.fail(address)
        raise


# -- the curator's -------------------------------------------------------------------------------


@router.post("/orgs/{org}/invitations", status_code=201)
def create_invitation(
    org: str,
    body: InvitationCreate,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> InvitationPublic:
    """Create a personal link (questionnaire, consent, a parent's consent, or a pair) and queue
    its e-mail when an address is known. The answer carries the link's ``url``, once."""
    created, _ = links.create_invitation(
        session, actor, org, body.person_id, body.purpose,
        secret=settings.secret_key, base_url=settings.public_url,
        default_days=settings.link_days, pair_id=body.pair_id, email=body.email,
        days=body.days, zone=settings.zone,
    )  # fmt: skip
    return created


@router.post("/orgs/{org}/school-links", status_code=201)
def create_school_link(
    org: str,
    body: SchoolLinkCreate,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
) -> InvitationPublic:
    """Create a school's questionnaire link for new people; the answer carries its ``url`` and
    ``code``, once (the code is stored only as a keyed hash)."""
    return links.create_school_link(
        session, actor, org, body.side, body.spec,
        secret=settings.secret_key, base_url=settings.public_url,
        default_days=settings.link_days, code=body.code, days=body.days,
    )  # fmt: skip


@router.get("/orgs/{org}/invitations")
def list_invitations(
    org: str, session: SessionDep, actor: ActorDep, person_id: int | None = None
) -> list[InvitationPublic]:
    """The links of a school (of one person), newest first; without their urls."""
    return links.invitations(session, actor, org, person_id)


@router.post("/orgs/{org}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    org: str, invitation_id: int, session: WriteSessionDep, actor: ActorDep
) -> InvitationPublic:
    """Revoke a link: it opens nothing from now on."""
    return links.revoke(session, actor, org, invitation_id)


# -- the participant's (the link is the credential) ------------------------------------------------


@router.get("/links/{token}", responses=LINK_ERRORS)
def link(request: Request, token: str, session: SessionDep) -> LinkView:
    """What a link opens: its purpose, whose it is (the name of its own person only), until when."""
    invitation = opened(request, session, token)
    view = LinkView(
        purpose=invitation.purpose,
        person_name=invitation.person.name if invitation.person else None,
        expires_at=invitation.expires_at,
    )
    if invitation.purpose in consenting.KIND_OF:
        view.consent = consenting.text_of(invitation)
        view.given = consenting.state(session, invitation)
    return view


QUESTIONNAIRES = {LinkPurpose.questionnaire.value, LinkPurpose.school.value}


def _school_code(request: Request, invitation: Invitation, code: str | None) -> None:
    if invitation.purpose != LinkPurpose.school.value:
        return
    if not links.check_code(invitation, request.app.state.settings.secret_key, code):
        failure_limit(request).fail(client_address(request))
        raise LinkRefused("неверный код школы")


@router.get("/links/{token}/questionnaire", responses=LINK_ERRORS)
def questionnaire(
    request: Request, token: str, session: SessionDep, code: str | None = None
) -> QuestionnaireView:
    """The questionnaire of a link with the person's current answers (a school link: ``code``)."""
    invitation = opened(request, session, token, QUESTIONNAIRES)
    _school_code(request, invitation, code)
    return answering.questionnaire(session, invitation)


@router.put("/links/{token}/answers", responses=errors(403, 409, 410, 429))
def answer(
    request: Request,
    token: str,
    session: WriteSessionDep,
    settings: SettingsDep,
    records: Annotated[dict[str, Any], Body(description="Answers by question key.")],
    code: str | None = None,
) -> QuestionnaireView:
    """Store the answers (validated as an import is: 422 lists every problem). A school link
    (``code``) creates a new person and answers with their personal questionnaire link's view."""
    invitation = opened(request, session, token, QUESTIONNAIRES)
    _school_code(request, invitation, code)
    today = utcnow().astimezone(settings.zone).date()
    person, _ = answering.submit(session, links.link_actor(invitation), invitation, records, today)
    invitation.used_at = utcnow()
    if invitation.person is None:
        personal = links.personal_after_school(session, invitation, person)
        view = answering.questionnaire(session, personal)
        view.url = (
            f"{settings.public_url.rstrip('/')}/p/{links.sign(settings.secret_key, personal)}"
        )
        return view
    return answering.questionnaire(session, invitation)


@router.post("/links/{token}/consent", responses=LINK_ERRORS)
def consent(
    request: Request,
    token: str,
    body: ConsentByLink,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> LinkView:
    """Give (``agree`` must be true; a parent gives ``signer_name``) or withdraw the consent."""
    invitation = opened(request, session, token, set(consenting.KIND_OF))
    consenting.give(
        session, links.link_actor(invitation), invitation, body.given, body.agree,
        body.signer_name, client_address(request), request.headers.get("user-agent"),
        settings.zone,
    )  # fmt: skip
    invitation.used_at = utcnow()
    return LinkView(
        purpose=invitation.purpose,
        person_name=invitation.person.name if invitation.person else None,
        expires_at=invitation.expires_at,
        consent=consenting.text_of(invitation),
        given=consenting.state(session, invitation),
    )


# -- a pair's work (the participant's pair link; the curator's flags and reminders) ----------------


def _pair(request: Request, session: Any, token: str) -> tuple[Invitation, Any, str]:
    invitation = opened(request, session, token, {LinkPurpose.pair.value})
    pair, side = pairwork.pair_of(session, invitation)
    return invitation, pair, side


@router.get("/links/{token}/pair", responses=LINK_ERRORS)
def pair_work(request: Request, token: str, session: SessionDep) -> PairWork:
    """One side's view of the pair: the other's name only, the plan, meetings, own report."""
    _, pair, side = _pair(request, session, token)
    return pairwork.work(session, pair, side)


@router.put("/links/{token}/plan", responses=errors(403, 409, 410, 429))
def save_plan(
    request: Request, token: str, body: PlanCreate, session: WriteSessionDep
) -> PlanPublic:
    """Write or change the plan (the mentor's link only)."""
    invitation, pair, side = _pair(request, session, token)
    return pairwork.save_plan(session, links.link_actor(invitation), pair, side, body)


@router.post("/links/{token}/plan/acknowledge", responses=errors(403, 409, 410, 429))
def acknowledge_plan(request: Request, token: str, session: WriteSessionDep) -> PlanPublic:
    """The mentee has read the plan."""
    invitation, pair, side = _pair(request, session, token)
    return pairwork.acknowledge_plan(session, links.link_actor(invitation), pair, side)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def plan_document(session: Any, pair: Any) -> Response:
    """The plan of a pair as a .docx answer (404 without a plan)."""
    plan = pairwork.work(session, pair, "mentor").plan
    if plan is None:
        raise NotFound("plan", pair.id)
    content = pairwork.plan_docx(pair, plan, pair.mentee.org.name)
    return Response(content, media_type=DOCX,
                    headers={"Content-Disposition": f'attachment; filename="plan-{pair.id}.docx"'})  # fmt: skip


@router.get("/links/{token}/plan.docx", responses=LINK_ERRORS, response_class=Response)
def plan_docx(request: Request, token: str, session: SessionDep) -> Response:
    """The plan as a Word document to print."""
    _, pair, _ = _pair(request, session, token)
    return plan_document(session, pair)


@router.get("/pairs/{pair_id}/plan.docx", response_class=Response)
def curator_plan_docx(pair_id: int, session: SessionDep, actor: ActorDep) -> Response:
    """The plan of a pair as a Word document (a curator of either school)."""
    pair, _ = pair_with_sides(session, actor, pair_id)
    return plan_document(session, pair)


@router.post("/links/{token}/meetings", status_code=201, responses=LINK_ERRORS)
def log_meeting(
    request: Request,
    token: str,
    body: MeetingCreate,
    session: WriteSessionDep,
    settings: SettingsDep,
) -> MeetingPublic:
    """Log a meeting with this side's note."""
    invitation, pair, side = _pair(request, session, token)
    today = utcnow().astimezone(settings.zone).date()
    return pairwork.log_meeting(session, links.link_actor(invitation), pair, side, body, today)


@router.post("/links/{token}/meetings/{meeting_id}/note", responses=LINK_ERRORS)
def meeting_note(
    request: Request,
    token: str,
    meeting_id: int,
    session: WriteSessionDep,
    note: Annotated[str, Body(embed=True, max_length=2000)],
) -> MeetingPublic:
    """Add this side's note to a logged meeting."""
    invitation, pair, side = _pair(request, session, token)
    return pairwork.add_note(session, links.link_actor(invitation), pair, side, meeting_id, note)


@router.post("/links/{token}/feedback", status_code=201, responses=LINK_ERRORS)
def monthly_feedback(
    request: Request, token: str, body: MonthlyFeedback, session: WriteSessionDep
) -> PairWork:
    """This side's monthly feedback (a score 1–10 or a comment)."""
    invitation, pair, side = _pair(request, session, token)
    pairwork.monthly_feedback(
        session, links.link_actor(invitation), pair, side, body.score, body.comment
    )
    return pairwork.work(session, pair, side)


@router.post("/links/{token}/final-report", status_code=201, responses=errors(403, 409, 410, 429))
def final_report(
    request: Request, token: str, body: FinalReportCreate, session: WriteSessionDep
) -> FinalReportPublic:
    """This side's final report; both reports complete an active pair."""
    invitation, pair, side = _pair(request, session, token)
    return pairwork.final_report(session, links.link_actor(invitation), pair, side, body)


@router.get("/orgs/{org}/participation/flags")
def flags(org: str, session: SessionDep, actor: ActorDep) -> list[FlagPublic]:
    """Pairs with a plan missing after 10 days, no feedback for a month, or a final report missing."""
    return pairwork.flags(session, actor, org)


@router.post("/orgs/{org}/reminders")
def reminders(
    org: str, session: WriteSessionDep, actor: ActorDep, settings: SettingsDep
) -> RemindersPublic:
    """Queue the reminders now due of the school's pairs (each once); send with the outbox."""
    queued = pairwork.remind(
        session, actor, org, secret=settings.secret_key, base_url=settings.public_url,
        days=settings.link_days, zone=settings.zone,
    )  # fmt: skip
    return RemindersPublic(queued=queued)


# -- choice: a mentee ranks suggested mentors, a mentor answers proposals ---------------------------


def _chooser(request: Request, session: Any, token: str) -> Invitation:
    return opened(request, session, token, {LinkPurpose.choice.value})


@router.get("/links/{token}/choice", responses=errors(403, 409, 410, 429))
def choice(request: Request, token: str, session: SessionDep) -> ChoiceView:
    """A mentee's suggested mentors (names, posts, reasons; no scores) or a mentor's proposals."""
    invitation = _chooser(request, session, token)
    return choosing.view(session, links.link_actor(invitation), invitation)


@router.put("/links/{token}/ranking", responses=errors(403, 409, 410, 429))
def ranking(
    request: Request, token: str, body: RankingCreate, session: WriteSessionDep
) -> ChoiceView:
    """A mentee's ranking of the suggested mentors, first choice first (the next run's priority)."""
    invitation = _chooser(request, session, token)
    return choosing.rank(session, links.link_actor(invitation), invitation, body.mentor_ids)


@router.post("/links/{token}/proposals/{proposal_id}/response", responses=LINK_ERRORS)
def proposal_response(
    request: Request, token: str, proposal_id: int, body: ResponseCreate, session: WriteSessionDep
) -> ChoiceView:
    """A mentor accepts or declines one of their open proposals; the curator still confirms."""
    invitation = _chooser(request, session, token)
    return choosing.respond(
        session, links.link_actor(invitation), invitation, proposal_id, body.accepted, body.note
    )


@router.get("/orgs/{org}/choices")
def choices(org: str, session: SessionDep, actor: ActorDep) -> list[ChoicePublic]:
    """The school's open proposals with the mentors' answers and the mentees' ranks."""
    return choosing.choices(session, actor, org)
