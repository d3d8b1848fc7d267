"""The outbox: e-mails are queued in the transaction of their cause and sent afterwards.

A message is a row of ``outbox`` (:class:`~service.core.models.Message`). :func:`enqueue` adds
one (its ``key`` makes a reminder idempotent: the same reminder of the same person is queued
once); :func:`deliver` sends the due ones over SMTP outside any transaction, then records the
result: ``sent`` with the time, or another attempt later (1, 2, 4, ... minutes), or ``failed``
after ``smtp_attempts`` tries with the last error kept. Without a mail server (``smtp_host``
unset, as in ``make run``) nothing leaves the machine: messages are marked ``shown`` and read on
the outbox page.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.config import Settings
from service.core.db import Database
from service.core.models import Message, MessageStatus, utcnow
from service.core.security import Actor, organisation_for
from service.notifications.schemas import DeliveryPublic, MessagePublic

__all__ = ["deliver", "enqueue", "messages", "public"]

log = logging.getLogger("nastavnik.service.notifications")


def enqueue(
    session: Session,
    *,
    org_id: int,
    kind: str,
    key: str,
    to_address: str | None,
    subject: str,
    body: str,
    person_id: int | None = None,
) -> Message | None:
    """Queue a message unless one with the same ``key`` exists; return it (None when known)."""
    if session.scalar(select(Message.id).where(Message.key == key)) is not None:
        return None
    message = Message(
        org_id=org_id,
        person_id=person_id,
        kind=kind,
        key=key,
        to_address=to_address,
        subject=subject,
        body=body,
    )
    session.add(message)
    session.flush()
    return message


def public(message: Message) -> MessagePublic:
    """The API shape of a message."""
    return MessagePublic(
        message_id=message.id,
        kind=message.kind,
        person_id=message.person_id,
        to_address=message.to_address,
        subject=message.subject,
        body=message.body,
        status=message.status,
        attempts=message.attempts,
        last_error=message.last_error,
        created_at=message.created_at,
        sent_at=message.sent_at,
    )


def messages(
    session: Session, actor: Actor, org: str, person_id: int | None = None
) -> list[MessagePublic]:
    """Return the messages of a school (of one person when given), newest first."""
    organisation = organisation_for(session, actor, org)
    query = select(Message).where(Message.org_id == organisation.id)
    if person_id is not None:
        query = query.where(Message.person_id == person_id)
    return [public(m) for m in session.scalars(query.order_by(Message.id.desc()))]


def _email(settings: Settings, message: Message) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.smtp_sender
    email["To"] = message.to_address or ""
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=settings.smtp_sender.rpartition("@")[2] or None)
    email.set_content(message.body)
    return email


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    if settings.smtp_tls == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=30, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if settings.smtp_user:
        smtp.login(settings.smtp_user, settings.smtp_password or "")
    return smtp


def _why(exc: BaseException) -> str:
    """What went wrong with the mail server, in Russian for the curator's outbox (the library's
    own English text is not shown; an SMTP answer keeps its code for the administrator)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "сервер не принял имя пользователя или пароль (настройки почты)"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "сервер не принял адрес получателя"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "сервер не принял адрес отправителя (настройки почты)"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"сервер ответил ошибкой {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "сервер прервал соединение"
    if isinstance(exc, ssl.SSLError):
        return "не удалось установить защищённое соединение (TLS)"
    if isinstance(exc, socket.gaierror):
        return "имя сервера не найдено"
    if isinstance(exc, TimeoutError):
        return "сервер не ответил вовремя"
    if isinstance(exc, ConnectionRefusedError):
        return "сервер отказал в соединении"
    return "ошибка соединения с сервером"


def deliver(db: Database, settings: Settings, org_id: int | None = None) -> DeliveryPublic:
    """Send every due queued message (of one school when given); record each result.

    Reads the due messages in one transaction, talks to the mail server outside any, and
    records the results in another, so a slow server never holds the database.
    """
    now = utcnow()
    with db.read() as session:
        query = select(Message).where(
            Message.status == MessageStatus.queued.value, Message.next_attempt_at <= now
        )
        if org_id is not None:
            query = query.where(Message.org_id == org_id)
        due = list(session.scalars(query.order_by(Message.id)))
    results: dict[int, str | None] = {}  # id -> error, None when sent
    shown: list[int] = []
    if settings.smtp_host is None:
        shown = [m.id for m in due]
    elif due:
        try:
            smtp = _connect(settings)
        except (OSError, smtplib.SMTPException) as exc:
            results = {m.id: f"почтовый сервер недоступен: {_why(exc)}" for m in due}
        else:
            with smtp:
                for message in due:
                    if not message.to_address:
                        results[message.id] = "нет адреса электронной почты"
                        continue
                    try:
                        smtp.send_message(_email(settings, message))
                        results[message.id] = None
                    except (OSError, smtplib.SMTPException) as exc:
                        results[message.id] = _why(exc)
    counts = {"sent": 0, "retried": 0, "failed": 0, "shown": len(shown)}
    with db.write() as session:
        for message_id in shown:
            found = session.get(Message, message_id)
            if found is not None and found.status == MessageStatus.queued.value:
                found.status = MessageStatus.shown.value
        for message_id, error in results.items():
            found = session.get(Message, message_id)
            if found is None or found.status != MessageStatus.queued.value:
                continue
            message = found
            message.attempts += 1
            if error is None:
                message.status, message.sent_at, message.last_error = (
                    MessageStatus.sent.value,
                    utcnow(),
                    None,
                )
                counts["sent"] += 1
            elif message.attempts >= settings.smtp_attempts:
                message.status, message.last_error = MessageStatus.failed.value, error
                counts["failed"] += 1
            else:
                message.last_error = error
                message.next_attempt_at = utcnow() + timedelta(minutes=2 ** (message.attempts - 1))
                counts["retried"] += 1
    if due:
        log.info("outbox: %s", counts)
    return DeliveryPublic(**counts)
