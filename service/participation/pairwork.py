"""A pair's work: the plan (docs/rules.md#programme), meetings, monthly feedback
(docs/rules.md#feedback), both sides' final reports (docs/rules.md#final-reports), what the
curator should look at, and the reminders.

Each function acts for one side of one pair (``side`` is "mentor" or "mentee", the side of the
link's person): the mentor writes the plan and the mentee confirms having read it; either side
logs a meeting and adds their own note to one; each writes their own final report. When both
final reports are in, the pair is closed as completed through ``service.pairs.pairs.end_pair``.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Conflict, Denied, Invalid, NotFound
from service.core.models import (
    Feedback,
    FinalReport,
    Invitation,
    LinkPurpose,
    Meeting,
    Pair,
    PairStatus,
    Person,
    Plan,
    Side,
    utcnow,
)
from service.core.rules import form_title
from service.core.security import Actor, organisation_for
from service.monitoring.feedback import give_feedback
from service.pairs.pairs import end_pair
from service.participation import links
from service.participation.schemas import (
    FinalReportCreate,
    FinalReportPublic,
    FlagPublic,
    MeetingCreate,
    MeetingPublic,
    PairWork,
    PlanCreate,
    PlanPublic,
    PlanTask,
)

__all__ = [
    "FEEDBACK_DAYS",
    "PLAN_DAYS",
    "REPORT_DAYS",
    "acknowledge_plan",
    "add_note",
    "draft_plan",
    "final_report",
    "flags",
    "log_meeting",
    "monthly_feedback",
    "plan_docx",
    "remind",
    "save_plan",
    "work",
]

PLAN_DAYS = 10  # docs/rules.md#programme: the plan within 10 days of the order
FEEDBACK_DAYS = 30  # docs/rules.md#feedback: at least once a month
REPORT_DAYS = 10  # docs/rules.md#final-reports: within 10 days after the end
FORMATS = {"in_person": "очно", "remote": "дистанционно"}

#: The plan's template of each form of mentoring: goals and tasks (title, weeks from the start).
TEMPLATES: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "teacher_teacher": (
        "Помочь педагогу закрыть профессиональные затруднения, названные в анкете, и "
        "освоить приёмы работы наставника.",
        [
            ("Знакомство, разбор затруднений из анкеты", 1),
            ("Взаимное посещение уроков", 4),
            ("Разработка и проведение открытого урока", 10),
            ("Итоговая встреча, отчёты", 14),
        ],
    ),
    "student_student": (
        "Улучшить результаты по выбранным предметам и помочь в учебных и личных целях.",
        [
            ("Знакомство, цели на полугодие", 1),
            ("Занятия по предмету раз в неделю", 2),
            ("Проверка промежуточных результатов", 8),
            ("Итоговая встреча, отчёты", 14),
        ],
    ),
}
DEFAULT_TEMPLATE = (
    "Цели наставничества по запросам наставляемого.",
    [("Знакомство, цели", 1), ("Работа по плану", 4), ("Итоговая встреча, отчёты", 12)],
)
SIDE_TITLES = {Side.mentor.value: "наставник", Side.mentee.value: "наставляемый"}


def pair_of(session: Session, invitation: Invitation) -> tuple[Pair, str]:
    """The pair of a pair link and the side of its person."""
    pair = session.get(Pair, invitation.pair_id) if invitation.pair_id else None
    if pair is None or invitation.person_id not in (pair.mentee_id, pair.mentor_id):
        raise NotFound("pair", invitation.pair_id or 0)
    side = Side.mentor.value if pair.mentor_id == invitation.person_id else Side.mentee.value
    return pair, side


def _plan_public(plan: Plan) -> PlanPublic:
    return PlanPublic(
        pair_id=plan.pair_id,
        goals=plan.goals,
        tasks=[PlanTask.model_validate(t) for t in plan.tasks],
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        version=plan.version,
        updated_at=plan.updated_at,
        acknowledged_at=plan.acknowledged_at,
    )


def draft_plan(pair: Pair, today: date) -> PlanCreate:
    """A new plan from the template of the pair's form of mentoring."""
    goals, tasks = TEMPLATES.get(pair.form, DEFAULT_TEMPLATE)
    return PlanCreate(
        goals=goals,
        tasks=[PlanTask(title=t, due=today + timedelta(weeks=w)) for t, w in tasks],
        starts_on=today,
        ends_on=today + relativedelta(months=6),
    )


def _check_plan(body: PlanCreate) -> None:
    problems: list[dict[str, Any]] = []
    if body.ends_on <= body.starts_on:
        problems.append({"row": None, "column": "Окончание", "value": f"{body.ends_on:%d.%m.%Y}",
                         "message": "окончание должно быть позже начала"})  # fmt: skip
    for n, task in enumerate(body.tasks, start=1):
        if not body.starts_on <= task.due <= body.ends_on:
            problems.append({"row": n, "column": "Срок задачи", "value": f"{task.due:%d.%m.%Y}",
                             "message": "срок задачи — между началом и окончанием плана"})  # fmt: skip
    if problems:
        raise Invalid("План не сохранён: исправьте отмеченное.", problems)


def save_plan(
    session: Session, actor: Actor, pair: Pair, side: str, body: PlanCreate
) -> PlanPublic:
    """Write or change the plan of an active pair (the mentor only); a change asks the mentee
    to read it again."""
    if side != Side.mentor.value:
        raise Denied("план составляет наставник; наставляемый знакомится с ним")
    if pair.status != PairStatus.active.value:
        raise Conflict("pair_not_active", "Пара уже не действует: план не меняется.")
    _check_plan(body)
    plan = session.scalar(select(Plan).where(Plan.pair_id == pair.id))
    tasks = [t.model_dump(mode="json") for t in body.tasks]
    if plan is None:
        plan = Plan(pair_id=pair.id, goals=body.goals, tasks=tasks, starts_on=body.starts_on,
                    ends_on=body.ends_on)  # fmt: skip
        session.add(plan)
    else:
        plan.goals, plan.tasks = body.goals, tasks
        plan.starts_on, plan.ends_on = body.starts_on, body.ends_on
        plan.version += 1
        plan.updated_at, plan.acknowledged_at = utcnow(), None
    session.flush()
    record(session, actor, "plan", "pair", pair.id, pair.org_id, version=plan.version)
    return _plan_public(plan)


def acknowledge_plan(session: Session, actor: Actor, pair: Pair, side: str) -> PlanPublic:
    """The mentee has read the plan (docs/rules.md#programme: «знакомится с программой»)."""
    plan = session.scalar(select(Plan).where(Plan.pair_id == pair.id))
    if plan is None:
        raise Conflict("no_plan", "Плана ещё нет: его составляет наставник.")
    if side != Side.mentee.value:
        raise Denied("с планом знакомится наставляемый")
    plan.acknowledged_at = utcnow()
    record(session, actor, "plan_read", "pair", pair.id, pair.org_id, version=plan.version)
    return _plan_public(plan)


def _meeting_public(m: Meeting) -> MeetingPublic:
    return MeetingPublic(meeting_id=m.id, pair_id=m.pair_id, held_on=m.held_on, format=m.format,
                         topic=m.topic, mentor_note=m.mentor_note, mentee_note=m.mentee_note)  # fmt: skip


def log_meeting(
    session: Session, actor: Actor, pair: Pair, side: str, body: MeetingCreate, today: date
) -> MeetingPublic:
    """Log a meeting with this side's note."""
    if body.held_on > today:
        raise Invalid("Встреча не записана.", [{"row": None, "column": "Дата встречи",
                      "value": f"{body.held_on:%d.%m.%Y}", "message": "встреча ещё не прошла"}])  # fmt: skip
    if body.held_on < pair.started_at.date() - timedelta(days=1):
        raise Invalid("Встреча не записана.", [{"row": None, "column": "Дата встречи",
                      "value": f"{body.held_on:%d.%m.%Y}", "message": "раньше начала пары"}])  # fmt: skip
    note = (body.note or "").strip() or None
    meeting = Meeting(pair_id=pair.id, held_on=body.held_on, format=body.format,
                      topic=body.topic.strip(), logged_by=side,
                      mentor_note=note if side == Side.mentor.value else None,
                      mentee_note=note if side == Side.mentee.value else None)  # fmt: skip
    session.add(meeting)
    session.flush()
    record(session, actor, "meeting", "pair", pair.id, pair.org_id, meeting=meeting.id)
    return _meeting_public(meeting)


def add_note(
    session: Session, actor: Actor, pair: Pair, side: str, meeting_id: int, note: str
) -> MeetingPublic:
    """Add (or change) this side's note of a logged meeting."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.pair_id != pair.id:
        raise NotFound("meeting", meeting_id)
    text = note.strip()[:2000] or None
    if side == Side.mentor.value:
        meeting.mentor_note = text
    else:
        meeting.mentee_note = text
    record(session, actor, "meeting_note", "pair", pair.id, pair.org_id, meeting=meeting.id)
    return _meeting_public(meeting)


def monthly_feedback(
    session: Session, actor: Actor, pair: Pair, side: str, score: int | None, comment: str | None
) -> None:
    """This side's monthly feedback, stored as the curator's feedback is (``give_feedback``)."""
    give_feedback(session, actor, pair.id, side, "feedback", score, {}, comment)


def final_report(
    session: Session, actor: Actor, pair: Pair, side: str, body: FinalReportCreate
) -> FinalReportPublic:
    """This side's final report; when both are in and the pair is active, it is completed."""
    if session.scalar(
        select(FinalReport.id).where(FinalReport.pair_id == pair.id, FinalReport.author == side)
    ):
        raise Conflict("report_exists", "Итоговый отчёт уже сдан.")
    report = FinalReport(pair_id=pair.id, author=side, text=body.text.strip(), score=body.score)
    session.add(report)
    session.flush()
    record(session, actor, "final_report", "pair", pair.id, pair.org_id, author=side)
    both = session.scalar(select(func.count()).where(FinalReport.pair_id == pair.id)) == 2
    if both and pair.status == PairStatus.active.value:
        end_pair(session, actor, pair.id, "completed")
    return FinalReportPublic(pair_id=pair.id, author=side, text=report.text, score=report.score,
                             created_at=report.created_at)  # fmt: skip


def _fed_back(session: Session, pair_id: int, side: str, since: datetime) -> bool:
    return session.scalar(
        select(Feedback.id).where(Feedback.pair_id == pair_id, Feedback.author == side,
                                  Feedback.created_at >= since).limit(1)
    ) is not None  # fmt: skip


def work(session: Session, pair: Pair, side: str) -> PairWork:
    """One side's view of the pair: only the other person's name, the plan, meetings, own report."""
    partner = pair.mentee if side == Side.mentor.value else pair.mentor
    plan = session.scalar(select(Plan).where(Plan.pair_id == pair.id))
    meetings = session.scalars(
        select(Meeting).where(Meeting.pair_id == pair.id).order_by(Meeting.held_on.desc())
    ).all()
    reports = session.scalars(
        select(FinalReport).where(FinalReport.pair_id == pair.id, FinalReport.author == side)
    ).all()
    return PairWork(
        pair_id=pair.id,
        side=side,
        status=pair.status,
        partner_name=partner.name,
        started_at=pair.started_at,
        plan=_plan_public(plan) if plan else None,
        meetings=[_meeting_public(m) for m in meetings],
        reports=[
            FinalReportPublic(
                pair_id=r.pair_id,
                author=r.author,
                text=r.text,
                score=r.score,
                created_at=r.created_at,
            )
            for r in reports
        ],
        feedback_this_month=_fed_back(session, pair.id, side, utcnow() - timedelta(FEEDBACK_DAYS)),
    )


def _school_pairs(session: Session, org_id: int) -> list[Pair]:
    mentors = select(Person.id).where(Person.org_id == org_id)
    return list(session.scalars(
        select(Pair).where((Pair.org_id == org_id) | Pair.mentor_id.in_(mentors)).order_by(Pair.id)
    ))  # fmt: skip


def _missing(session: Session, pair: Pair, now: datetime) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if pair.status == PairStatus.active.value:
        age = now - pair.started_at
        has_plan = session.scalar(select(Plan.id).where(Plan.pair_id == pair.id)) is not None
        if not has_plan and age > timedelta(days=PLAN_DAYS):
            found.append(("plan", f"нет плана: прошло больше {PLAN_DAYS} дней"))
        if age > timedelta(days=FEEDBACK_DAYS):
            since = now - timedelta(days=FEEDBACK_DAYS)
            for side in (Side.mentor.value, Side.mentee.value):
                if not _fed_back(session, pair.id, side, since):
                    found.append((f"feedback_{side}",
                                  f"нет обратной связи ({SIDE_TITLES[side]}) больше месяца"))  # fmt: skip
    elif pair.ended_at is not None:
        written = set(
            session.scalars(select(FinalReport.author).where(FinalReport.pair_id == pair.id))
        )
        late = now - pair.ended_at > timedelta(days=REPORT_DAYS)
        for side in (Side.mentor.value, Side.mentee.value):
            if side not in written:
                when = "срок прошёл" if late else f"срок — {REPORT_DAYS} дней после окончания"
                found.append((f"final_report_{side}",
                              f"нет итогового отчёта ({SIDE_TITLES[side]}; {when})"))  # fmt: skip
    return found


def flags(session: Session, actor: Actor, org: str) -> list[FlagPublic]:
    """The school's pairs with a plan, monthly feedback or a final report missing."""
    organisation = organisation_for(session, actor, org)
    now, shown = utcnow(), []
    for pair in _school_pairs(session, organisation.id):
        missing = _missing(session, pair, now)
        if missing:
            shown.append(FlagPublic(pair_id=pair.id, mentee_name=pair.mentee.name,
                                    mentor_name=pair.mentor.name, missing=[k for k, _ in missing],
                                    titles=[t for _, t in missing]))  # fmt: skip
    return shown


def _pair_link(session: Session, pair: Pair, person: Person, days: int) -> Invitation:
    """The person's pair link (an open one, or a new one)."""
    found = session.scalar(
        select(Invitation).where(
            Invitation.pair_id == pair.id, Invitation.person_id == person.id,
            Invitation.purpose == LinkPurpose.pair.value, Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow() + timedelta(days=7),
        ).order_by(Invitation.id.desc()).limit(1)
    )  # fmt: skip
    if found is not None:
        return found
    invitation = Invitation(org_id=person.org_id, person_id=person.id, pair_id=pair.id,
                            purpose=LinkPurpose.pair.value,
                            email=links.contact_of(session, person, LinkPurpose.pair.value),
                            expires_at=utcnow() + timedelta(days=days))  # fmt: skip
    session.add(invitation)
    session.flush()
    session.refresh(invitation)
    return invitation


def remind(
    session: Session, actor: Actor, org: str, *, secret: str, base_url: str, days: int,
    zone: tzinfo = UTC,
) -> int:  # fmt: skip
    """Queue the reminders now due of a school's pairs; return how many were queued.

    Each is queued once (its key): pair confirmed (both sides, with their pair link), plan due
    (the mentor, while there is no plan), feedback due (each side without feedback for a month,
    once a month), final survey (each side without a final report after the end).
    """
    from service.core.models import Message

    organisation = organisation_for(session, actor, org)
    before = session.scalar(select(func.count()).select_from(Message)) or 0
    now = utcnow()
    for pair in _school_pairs(session, organisation.id):
        if pair.org_id != organisation.id and pair.mentor.org_id != organisation.id:
            continue
        sides = [(Side.mentor.value, pair.mentor), (Side.mentee.value, pair.mentee)]
        sides = [(s, p) for s, p in sides if p.org_id == organisation.id]
        for side, person in sides:
            link = _pair_link(session, pair, person, days)
            url = f"{base_url.rstrip('/')}/p/{links.sign(secret, link)}"

            def send(kind: str, key: str, link: Invitation = link, url: str = url) -> None:
                links.notify(session, link, url, kind, zone, key=key)

            if pair.status == PairStatus.active.value:
                send("pair_confirmed", f"pair_confirmed:{pair.id}:{side}")
                has_plan = session.scalar(select(Plan.id).where(Plan.pair_id == pair.id))
                if side == Side.mentor.value and has_plan is None:
                    send("plan_due", f"plan_due:{pair.id}")
                month_ago = now - timedelta(days=FEEDBACK_DAYS)
                if pair.started_at < month_ago and not _fed_back(session, pair.id, side, month_ago):
                    send("feedback_due", f"feedback_due:{pair.id}:{side}:{now:%Y-%m}")
            else:
                written = session.scalar(select(FinalReport.id).where(
                    FinalReport.pair_id == pair.id, FinalReport.author == side))  # fmt: skip
                if written is None:
                    send("final_survey", f"final_survey:{pair.id}:{side}")
    after = session.scalar(select(func.count()).select_from(Message)) or 0
    return int(after - before)


def plan_docx(pair: Pair, plan: PlanPublic, school: str) -> bytes:
    """The plan as a Word document to print and sign."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(12)
    document.add_paragraph(school).runs[0].bold = True
    document.add_heading("Индивидуальный план развития (программа наставничества)", level=1)
    document.add_paragraph(f"Наставник: {pair.mentor.name or '—'}")
    document.add_paragraph(f"Наставляемый: {pair.mentee.name or '—'}")
    document.add_paragraph(f"Форма наставничества: {form_title(pair.form)}")
    document.add_paragraph(f"Срок: с {plan.starts_on:%d.%m.%Y} по {plan.ends_on:%d.%m.%Y}")
    document.add_heading("Цели", level=2)
    document.add_paragraph(plan.goals)
    document.add_heading("Задачи", level=2)
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, title in zip(table.rows[0].cells, ("№", "Задача", "Срок"), strict=True):
        cell.text = title
    for n, task in enumerate(plan.tasks, start=1):
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = str(n), task.title, f"{task.due:%d.%m.%Y}"
    document.add_paragraph("")
    document.add_paragraph("Наставник  ____________________")
    document.add_paragraph("С программой ознакомлен(а), наставляемый  ____________________")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
