"""Pages of participants' links (``/p/<token>``, no login: the signed link is the credential) and
the curator's page of links (``/ui/orgs/{org}/participation``).

A participant's page shows their own name and answers and nothing of anyone else. Forms carry
``{{ csrf_input() }}``, so an anti-forgery token applies to them as to the curators' forms.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from service.core.deps import ActorDep, SessionDep, SettingsDep, WriteSessionDep
from service.core.errors import Conflict, Invalid, LinkRefused, NoConsent
from service.core.models import Invitation, LinkPurpose, utcnow
from service.core.security import organisation_for
from service.participation import answering, choosing, consenting, links
from service.participation.answering import DAYS
from service.participation.routes import QUESTIONNAIRES, client_address, failure_limit, opened
from service.people import people
from service.people.consents import KIND_TITLES
from service.ui.forms import FormReader
from service.ui.rendering import FormDep, attempt, back, problems_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PURPOSE_TITLES = {
    LinkPurpose.questionnaire.value: "анкета",
    LinkPurpose.school.value: "анкета школы (с кодом)",
    LinkPurpose.consent.value: "согласие участника",
    LinkPurpose.parent.value: "согласие родителя",
    LinkPurpose.pair.value: "работа пары",
    LinkPurpose.choice.value: "выбор наставника / ответ на предложение",
}


def _url(request: Request, invitation: Invitation) -> str:
    return f"/p/{links.sign(request.app.state.settings.secret_key, invitation)}"


# -- the participant's pages ------------------------------------------------------------------


def _questionnaire_page(
    request: Request,
    session: Any,
    invitation: Invitation,
    token: str,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    code: str | None = None,
) -> HTMLResponse:
    view = answering.questionnaire(session, invitation)
    return render(
        request,
        "participation/questionnaire.html",
        status,
        view=view,
        values=view.answers if values is None else values,
        errors=errors or [],
        error_columns={e.get("column") for e in errors or []},
        token=token,
        code=code,
        days=DAYS,
    )


@router.get("/p/{token}")
def link_page(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    """What the link opens: a questionnaire, a consent, or the person's pair."""
    invitation = opened(request, session, token)
    if invitation.purpose == LinkPurpose.school.value:
        return render(request, "participation/code.html", token=token, error=None)
    if invitation.purpose == LinkPurpose.questionnaire.value:
        return _questionnaire_page(request, session, invitation, token)
    if invitation.purpose in consenting.KIND_OF:
        return _consent_page(request, session, invitation, token)
    if invitation.purpose == LinkPurpose.choice.value:
        return _choice_page(request, session, invitation, token)
    from service.participation.pair_pages import pair_page

    return pair_page(request, session, invitation, token)


@router.post("/p/{token}/code")
def school_code(request: Request, token: str, session: SessionDep, fields: FormDep) -> Response:
    """A school link's code: right, the questionnaire; wrong, the code form again (counted)."""
    invitation = opened(request, session, token, {LinkPurpose.school.value})
    code = str(fields.get("code") or "").strip()
    if not links.check_code(invitation, request.app.state.settings.secret_key, code):
        failure_limit(request).fail(client_address(request))
        return render(
            request, "participation/code.html", 403, token=token,
            error="Код не подошёл. Проверьте код, который дал куратор, и повторите.",
        )  # fmt: skip
    return _questionnaire_page(request, session, invitation, token, code=code)


@router.post("/p/{token}/answers")
def answers(
    request: Request, token: str, session: WriteSessionDep, settings: SettingsDep, fields: FormDep
) -> Response:
    """Store the questionnaire; a mistake shows it again with every problem named."""
    invitation = opened(request, session, token, QUESTIONNAIRES)
    code = str(fields.get("code") or "").strip() or None
    if invitation.purpose == LinkPurpose.school.value and not links.check_code(
        invitation, settings.secret_key, code
    ):
        failure_limit(request).fail(client_address(request))
        raise LinkRefused("неверный код школы")
    view = answering.questionnaire(session, invitation)
    records = answering.records_from_form(view.spec, view.side, fields)
    today = utcnow().astimezone(settings.zone).date()
    try:
        with attempt(session):
            person, outcome = answering.submit(
                session, links.link_actor(invitation), invitation, records, today
            )
    except (Invalid, Conflict) as exc:
        shown = view.answers | answering.form_values(view.spec, view.side, records)
        return _questionnaire_page(
            request, session, invitation, token, shown, problems_of(exc), 422, code
        )
    invitation.used_at = utcnow()
    if invitation.person is None:
        invitation = links.personal_after_school(session, invitation, person)
    message = (
        "Ответы не изменились." if outcome == "unchanged"
        else "Анкета сохранена. Её можно исправить по этой же ссылке, пока не подобрана пара."
    )  # fmt: skip
    return back(_url(request, invitation), message)


def _consent_page(
    request: Request,
    session: Any,
    invitation: Invitation,
    token: str,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "participation/consent.html",
        status,
        person_name=invitation.person.name if invitation.person else None,
        text=consenting.text_of(invitation),
        given=consenting.state(session, invitation),
        parent=invitation.purpose == LinkPurpose.parent.value,
        token=token,
        errors=errors or [],
        values=values or {},
    )


@router.post("/p/{token}/consent")
def consent(
    request: Request, token: str, session: WriteSessionDep, settings: SettingsDep, fields: FormDep
) -> Response:
    """Give or withdraw the consent of the link."""
    invitation = opened(request, session, token, set(consenting.KIND_OF))
    given = str(fields.get("decision") or "give") == "give"
    try:
        with attempt(session):
            consenting.give(
                session, links.link_actor(invitation), invitation, given,
                fields.get("agree") == "yes", str(fields.get("signer_name") or ""),
                client_address(request), request.headers.get("user-agent"), settings.zone,
            )  # fmt: skip
    except Invalid as exc:
        return _consent_page(request, session, invitation, token, problems_of(exc), 422, fields)
    invitation.used_at = utcnow()
    return back(
        _url(request, invitation),
        "Спасибо: согласие записано." if given else "Согласие отозвано.",
    )


def _choice_page(
    request: Request,
    session: Any,
    invitation: Invitation,
    token: str,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    try:
        view = choosing.view(session, links.link_actor(invitation), invitation)
    except NoConsent:
        view, errors = None, [{"column": None, "message": "Сначала нужно согласие на участие: "
                               "без него наставников не предлагают."}]  # fmt: skip
    return render(request, "participation/choice.html", status, view=view, token=token,
                  errors=errors or [], k=choosing.K)  # fmt: skip


@router.post("/p/{token}/ranking")
def ranking(request: Request, token: str, session: WriteSessionDep, fields: FormDep) -> Response:
    """A mentee's ranking: ``rank_<mentor id>`` = 1..k (empty: not chosen)."""
    invitation = opened(request, session, token, {LinkPurpose.choice.value})
    form = FormReader(fields)
    chosen: list[tuple[int, int]] = []
    for key in fields:
        if key.startswith("rank_") and str(fields[key]).strip():
            place = form.integer(key, "Место в выборе", 1, choosing.K)
            if place is not None and key[5:].isdigit():
                chosen.append((place, int(key[5:])))
    places = [p for p, _ in chosen]
    if len(set(places)) != len(places):
        form.problem("Место в выборе", "у двух наставников одно и то же место")
    try:
        form.check("Выбор не сохранён: исправьте отмеченное.")
        with attempt(session):
            choosing.rank(session, links.link_actor(invitation), invitation,
                          [m for _, m in sorted(chosen)])  # fmt: skip
    except Invalid as exc:
        return _choice_page(request, session, invitation, token, problems_of(exc), 422)
    return back(_url(request, invitation), "Выбор сохранён. Пару утверждает куратор.")


@router.post("/p/{token}/proposals/{proposal_id}/response")
def proposal_response(
    request: Request, token: str, proposal_id: int, session: WriteSessionDep, fields: FormDep
) -> Response:
    """A mentor accepts or declines a proposal."""
    invitation = opened(request, session, token, {LinkPurpose.choice.value})
    accepted = str(fields.get("decision")) == "accept"
    choosing.respond(session, links.link_actor(invitation), invitation, proposal_id, accepted,
                     str(fields.get("note") or ""))  # fmt: skip
    return back(_url(request, invitation),
                "Ответ записан: вы согласны." if accepted else "Ответ записан: вы отказались.")  # fmt: skip


# -- the curator's page of links ------------------------------------------------------------------


def _links_page(
    request: Request,
    session: Any,
    actor: Any,
    org: str,
    created: Any = None,
    errors: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    from service.participation.pair_pages import flags_for

    organisation = organisation_for(session, actor, org)
    everyone = people.people(session, actor, org)
    return render(
        request,
        "participation/links.html",
        status,
        actor=actor,
        org=org,
        people=everyone,
        invitations=links.invitations(session, actor, org),
        purposes=PURPOSE_TITLES,
        kind_titles=KIND_TITLES,
        created=created,
        errors=errors or [],
        flags=flags_for(session, actor, org),
        choices=choosing.choices(session, actor, org),
        now=utcnow(),
        school_name=organisation.name,
    )


@router.get("/ui/orgs/{org}/participation")
def links_page(request: Request, org: str, session: SessionDep, actor: ActorDep) -> HTMLResponse:
    """The school's links: create one (personal or the school's), revoke, and what needs doing."""
    return _links_page(request, session, actor, org)


@router.post("/ui/orgs/{org}/participation/invitations")
def invite(
    request: Request,
    org: str,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    fields: FormDep,
) -> Response:
    """Create a personal link; the page shows it once (and queues its e-mail)."""
    form = FormReader(fields)
    person_id = form.integer("person_id", "Участник", 1, 2**31 - 1)
    purpose = form.choice("purpose", "Для чего", {
        k: v for k, v in PURPOSE_TITLES.items() if k != LinkPurpose.school.value})  # fmt: skip
    email = form.text("email", "Электронная почта", required=False, max_length=300)
    pair_id = form.integer("pair_id", "Пара", 1, 2**31 - 1, required=False)
    try:
        form.check("Ссылка не создана: исправьте отмеченное.")
        assert person_id is not None
        assert purpose is not None
        with attempt(session):
            created, _ = links.create_invitation(
                session, actor, org, person_id, purpose,
                secret=settings.secret_key, base_url=settings.public_url,
                default_days=settings.link_days, pair_id=pair_id, email=email,
                zone=settings.zone,
            )  # fmt: skip
    except Invalid as exc:
        return _links_page(request, session, actor, org, errors=problems_of(exc), status=422)
    return _links_page(request, session, actor, org, created=created, status=201)


@router.post("/ui/orgs/{org}/participation/school-links")
def school_link(
    request: Request,
    org: str,
    session: WriteSessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    fields: FormDep,
) -> Response:
    """Create the school's link for new people's questionnaires; the page shows it and its code."""
    form = FormReader(fields)
    side = form.choice("side", "Чья анкета", {"mentor": "наставника", "mentee": "наставляемого"})
    spec = form.choice("spec", "Анкета", {"teacher": "педагогов", "pupil": "учеников"})
    try:
        form.check("Ссылка не создана: исправьте отмеченное.")
        assert side is not None
        assert spec is not None
        created = links.create_school_link(
            session, actor, org, side, spec, secret=settings.secret_key,
            base_url=settings.public_url, default_days=settings.link_days,
        )  # fmt: skip
    except Invalid as exc:
        return _links_page(request, session, actor, org, errors=problems_of(exc), status=422)
    return _links_page(request, session, actor, org, created=created, status=201)


@router.post("/ui/orgs/{org}/participation/invitations/{invitation_id}/revoke")
def revoke(org: str, invitation_id: int, session: WriteSessionDep, actor: ActorDep) -> Response:
    """Revoke a link."""
    links.revoke(session, actor, org, invitation_id)
    return back(f"/ui/orgs/{org}/participation", "Ссылка отозвана: она больше не открывается.")
