"""Participants' signed links (docs/rules.md#links): one person, one purpose, an end date.

A link is ``/p/<token>``: the token is ``{"i": invitation id, "p": purpose, "e": expiry}``
signed with the server's secret (itsdangerous, HMAC-SHA256, its own salt, so no other token of
the service is a valid link). Opening it checks the signature, the purpose, the expiry in the
token and in the row, and that the curator has not revoked it. A link gives access to its
person's questionnaire, consent or pair and to nothing else: the pages act as a *link actor*, a
curator of the person's school only, and call the domain functions with the link's person only.

Failed openings are counted per client address (:class:`FailureLimit`), as failed logins are:
a guessed or changed link or a wrong school code, too many times, answers 429 for a while.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta, tzinfo

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.audit import record
from service.core.errors import Invalid, LinkExpired, LinkRefused, NotFound, TooManyAttempts
from service.core.models import (
    Answers,
    Invitation,
    LinkPurpose,
    Pair,
    Person,
    Role,
    Side,
    utcnow,
)
from service.core.security import Actor, hash_token, organisation_for
from service.notifications.outbox import enqueue
from service.participation.messages import compose
from service.participation.schemas import InvitationPublic

__all__ = [
    "FailureLimit",
    "check_code",
    "contact_of",
    "create_invitation",
    "create_school_link",
    "invitations",
    "link_actor",
    "notify",
    "open_link",
    "personal_after_school",
    "revoke",
    "sign",
]

SALT = "nastavnik.participant-link.v1"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def sign(secret: str, invitation: Invitation) -> str:
    """Return the token of an invitation's link."""
    expires = int(invitation.expires_at.timestamp())
    return str(
        _serializer(secret).dumps({"i": invitation.id, "p": invitation.purpose, "e": expires})
    )


def open_link(
    session: Session, secret: str, token: str, purposes: set[str] | None = None
) -> Invitation:
    """Return the invitation of a link, or raise LinkRefused / LinkExpired (in Russian)."""
    try:
        data = _serializer(secret).loads(token)
        invitation_id, purpose, expires = int(data["i"]), str(data["p"]), int(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused() from None
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.purpose != purpose:
        raise LinkRefused()
    if purposes is not None and purpose not in purposes:
        raise LinkRefused("эта ссылка для другого")
    if invitation.revoked_at is not None:
        raise LinkRefused("куратор отозвал её")
    now = utcnow()
    if expires < now.timestamp() or invitation.expires_at <= now:
        raise LinkExpired()
    if invitation.person_id is not None:
        person = session.get(Person, invitation.person_id)
        if person is None or person.org_id != invitation.org_id:
            raise LinkRefused()
    return invitation


def link_actor(invitation: Invitation) -> Actor:
    """The actor of a link's requests: a curator of its person's school, known by the link."""
    return Actor(None, f"link:{invitation.id}", Role.curator, invitation.org_id)


def contact_of(session: Session, person: Person, purpose: str) -> str | None:
    """The e-mail address of a person (a parent's for a parent's link), when the answers hold one."""
    records = session.scalar(
        select(Answers.records).where(
            Answers.person_id == person.id, Answers.version == person.version
        )
    )
    records = dict(records or {})
    keys = ["parent_contact"] if purpose == LinkPurpose.parent.value else ["email", "contact"]
    candidates = [records.get(k) for k in keys]
    if purpose != LinkPurpose.parent.value:
        candidates.insert(0, person.external_id)
    return next((str(c) for c in candidates if c and _EMAIL.match(str(c))), None)


def _expiry(days: int | None, default: int) -> datetime:
    return utcnow() + timedelta(days=days or default)


def _public(
    invitation: Invitation, url: str | None = None, code: str | None = None
) -> InvitationPublic:
    return InvitationPublic(
        invitation_id=invitation.id,
        purpose=invitation.purpose,
        person_id=invitation.person_id,
        person_name=invitation.person.name if invitation.person else None,
        pair_id=invitation.pair_id,
        side=invitation.side,
        email=invitation.email,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        revoked_at=invitation.revoked_at,
        used_at=invitation.used_at,
        url=url,
        code=code,
    )


def _check_email(email: str | None) -> str | None:
    email = (email or "").strip() or None
    if email is not None and not _EMAIL.match(email):
        raise Invalid(
            "Ссылка не создана: адрес электронной почты не похож на адрес.",
            [{"row": None, "column": "Электронная почта", "value": email,
              "message": "ожидался адрес вида name@school.ru"}],
        )  # fmt: skip
    return email


def create_invitation(
    session: Session,
    actor: Actor,
    org: str,
    person_id: int,
    purpose: str,
    *,
    secret: str,
    base_url: str,
    default_days: int,
    pair_id: int | None = None,
    email: str | None = None,
    days: int | None = None,
    zone: tzinfo = UTC,
) -> tuple[InvitationPublic, Invitation]:
    """Create a personal link of one person of school ``org`` for one purpose.

    Raises
    ------
    NotFound
        When the person (or the pair, for a pair's link) is not one the actor may see.
    Invalid
        For a parent's link of a person whose questionnaire asks no parent's consent, a pair
        the person is not in, or an e-mail address that is not one.
    """
    from service.people.consents import asked
    from service.people.people import person_of

    if purpose not in {p.value for p in LinkPurpose} - {LinkPurpose.school.value}:
        raise Invalid(f"Неизвестное назначение ссылки {purpose!r}.")
    person = person_of(session, actor, org, person_id)
    if purpose == LinkPurpose.parent.value and LinkPurpose.parent.value not in asked(
        person.spec, person.side
    ):
        raise Invalid("Анкета этого участника не спрашивает согласия родителя.")
    if purpose == LinkPurpose.pair.value:
        pair = session.get(Pair, pair_id) if pair_id is not None else None
        if pair is None or person.id not in (pair.mentee_id, pair.mentor_id):
            raise Invalid("Для ссылки на пару укажите пару этого участника.")
    else:
        pair_id = None
    email = _check_email(email) or contact_of(session, person, purpose)
    invitation = Invitation(
        org_id=person.org_id,
        person_id=person.id,
        pair_id=pair_id,
        purpose=purpose,
        email=email,
        expires_at=_expiry(days, default_days),
        created_by=actor.user_id,
    )
    session.add(invitation)
    session.flush()
    record(session, actor, "invite", "invitation", invitation.id, person.org_id,
           person=person.id, purpose=purpose)  # fmt: skip
    url = f"{base_url.rstrip('/')}/p/{sign(secret, invitation)}"
    notify(session, invitation, url, purpose, zone)
    return _public(invitation, url), invitation


def notify(
    session: Session, invitation: Invitation, url: str, kind: str, zone: tzinfo, key: str = ""
) -> None:
    """Queue the e-mail of a link of ``kind`` (see ``messages.TEXTS``) to its address, if any."""
    if not invitation.email or invitation.person is None:
        return
    until = invitation.expires_at.astimezone(zone).strftime("%d.%m.%Y")
    subject, body = compose(kind, invitation.person.name, url, until)
    enqueue(
        session,
        org_id=invitation.org_id,
        person_id=invitation.person_id,
        kind=kind,
        key=key or f"invitation:{invitation.id}",
        to_address=invitation.email,
        subject=subject,
        body=body,
    )


def create_school_link(
    session: Session,
    actor: Actor,
    org: str,
    side: str,
    spec: str,
    *,
    secret: str,
    base_url: str,
    default_days: int,
    code: str | None = None,
    days: int | None = None,
) -> InvitationPublic:
    """Create a school's questionnaire link for new people of one side, opened with a code."""
    from service.people.questionnaires import load_spec_named

    organisation = organisation_for(session, actor, org)
    if side not in {s.value for s in Side}:
        raise NotFound("side", side)
    load_spec_named(spec)
    code = (code or "").strip() or f"{secrets.randbelow(10**6):06d}"
    invitation = Invitation(
        org_id=organisation.id,
        purpose=LinkPurpose.school.value,
        side=side,
        spec=spec,
        code_hash=hash_token(code, secret),
        expires_at=_expiry(days, default_days),
        created_by=actor.user_id,
    )
    session.add(invitation)
    session.flush()
    record(session, actor, "invite", "invitation", invitation.id, organisation.id,
           purpose="school", side=side)  # fmt: skip
    url = f"{base_url.rstrip('/')}/p/{sign(secret, invitation)}"
    return _public(invitation, url, code)


def personal_after_school(session: Session, school: Invitation, person: Person) -> Invitation:
    """The personal questionnaire link of a person who has just answered by a school's link:
    they come back to correct their answers by it (the school link creates new people only)."""
    personal = Invitation(
        org_id=school.org_id,
        person_id=person.id,
        purpose=LinkPurpose.questionnaire.value,
        expires_at=school.expires_at,
        created_by=school.created_by,
    )
    session.add(personal)
    session.flush()
    session.refresh(personal)
    return personal


def check_code(invitation: Invitation, secret: str, code: str | None) -> bool:
    """Whether ``code`` opens a school link."""
    if invitation.code_hash is None or not code:
        return False
    return secrets.compare_digest(invitation.code_hash, hash_token(code.strip(), secret))


def invitations(
    session: Session, actor: Actor, org: str, person_id: int | None = None
) -> list[InvitationPublic]:
    """Return the links of a school (of one person when given), newest first."""
    organisation = organisation_for(session, actor, org)
    query = select(Invitation).where(Invitation.org_id == organisation.id)
    if person_id is not None:
        query = query.where(Invitation.person_id == person_id)
    return [_public(i) for i in session.scalars(query.order_by(Invitation.id.desc()))]


def revoke(session: Session, actor: Actor, org: str, invitation_id: int) -> InvitationPublic:
    """Revoke a link: it opens nothing from now on."""
    organisation = organisation_for(session, actor, org)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.org_id != organisation.id:
        raise NotFound("invitation", invitation_id)
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        record(session, actor, "revoke", "invitation", invitation.id, organisation.id)
    return _public(invitation)


class FailureLimit:
    """Failed attempts per client address in a sliding window; too many -> TooManyAttempts.

    In-process, as the login's limit: one server process counts its own requests.
    """

    def __init__(self, limit: int, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, key: str) -> None:
        """Raise TooManyAttempts when ``key`` has failed too often lately."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) >= self.limit:
                raise TooManyAttempts(int(failures[0] + self.window - now) + 1)

    def fail(self, key: str) -> None:
        """Count one failure of ``key``."""
        with self._lock:
            self._recent(key, time.monotonic()).append(time.monotonic())
