"""Consent by link (docs/rules.md#consent): the participant, or a minor's parent with their
name, reads the consent text and agrees; withdrawal by the same link. The paper path stays.

The consent is recorded by ``service.people.consents.record_consent`` (source "link"), the code
path of a paper consent, so everything a consent changes follows (a person becomes matchable; a
withdrawal supersedes open proposals and flags active pairs). How it was given — time, client
address, the text's version, a parent's name — is kept beside it in ``consent_evidence``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import Invalid
from service.core.models import Consent, ConsentEvidence, ConsentKind, Invitation, LinkPurpose
from service.core.security import Actor
from service.participation.schemas import ConsentText
from service.people import consents

__all__ = ["TEXTS", "give", "state", "text_of"]

TEXTS = {
    ConsentKind.participant.value: ConsentText(
        kind=ConsentKind.participant.value,
        version="2026-12-participant-1",
        title="Согласие на участие в программе наставничества и на обработку персональных данных",
        text=(
            "Я даю согласие на участие в программе наставничества образовательной организации "
            "и на обработку моих персональных данных (фамилия, имя, отчество, сведения об "
            "образовании и работе или учёбе, ответы анкеты, контактные данные) для подбора "
            "наставника или наставляемого, формирования пар, ведения программы и отчётности по "
            "ней, в соответствии с Федеральным законом от 27.07.2006 № 152-ФЗ «О персональных "
            "данных». Согласие действует до окончания программы или до его отзыва. Я могу "
            "отозвать согласие в любой момент по этой же ссылке или письменным заявлением "
            "куратору программы."
        ),
    ),
    ConsentKind.parent.value: ConsentText(
        kind=ConsentKind.parent.value,
        version="2026-12-parent-1",
        title="Согласие родителя (законного представителя) несовершеннолетнего",
        text=(
            "Я, родитель (законный представитель), даю согласие на участие моего ребёнка в "
            "программе наставничества образовательной организации и на обработку его "
            "персональных данных (фамилия, имя, класс, возраст, ответы анкеты) для подбора "
            "наставника, ведения программы и отчётности по ней, в соответствии с Федеральным "
            "законом от 27.07.2006 № 152-ФЗ «О персональных данных». Согласие действует до "
            "окончания программы или до его отзыва; отозвать его можно по этой же ссылке или "
            "письменным заявлением куратору программы."
        ),
    ),
}
KIND_OF = {LinkPurpose.consent.value: ConsentKind.participant.value,
           LinkPurpose.parent.value: ConsentKind.parent.value}  # fmt: skip


def text_of(invitation: Invitation) -> ConsentText:
    """The consent text a consent link shows."""
    return TEXTS[KIND_OF[invitation.purpose]]


def state(session: Session, invitation: Invitation) -> bool | None:
    """The current state of the link's consent of its person (None: nothing recorded)."""
    assert invitation.person_id is not None
    kind = KIND_OF[invitation.purpose]
    return consents.latest(session, [invitation.person_id]).get(invitation.person_id, {}).get(kind)


def give(
    session: Session,
    actor: Actor,
    invitation: Invitation,
    given: bool,
    agree: bool,
    signer_name: str | None,
    ip: str | None,
    user_agent: str | None,
    zone: dt.tzinfo,
) -> bool:
    """Record the consent (or its withdrawal) of a consent link; return the person's whole
    consent (``Person.consent``) after it.

    Raises
    ------
    Invalid
        When giving consent without ticking «I have read and agree», or a parent's consent
        without the parent's name.
    """
    person = invitation.person
    assert person is not None
    kind = KIND_OF[invitation.purpose]
    problems = []
    if given and not agree:
        problems.append({"row": None, "column": "Согласие", "value": None,
                         "message": "отметьте, что вы прочитали текст и согласны"})  # fmt: skip
    signer_name = (signer_name or "").strip() or None
    if kind == ConsentKind.parent.value and signer_name is None:
        problems.append({"row": None, "column": "ФИО родителя (законного представителя)",
                         "value": None, "message": "поле не заполнено"})  # fmt: skip
    if problems:
        raise Invalid("Согласие не записано: исправьте отмеченное.", problems)
    org = person.org.code
    result = consents.record_consent(
        session, actor, org, person.id, given, kind, zone=zone, source="link"
    )
    consent_id = session.scalar(
        select(Consent.id)
        .where(Consent.person_id == person.id, Consent.kind == kind)
        .order_by(Consent.id.desc())
        .limit(1)
    )
    assert consent_id is not None
    session.add(
        ConsentEvidence(
            consent_id=consent_id,
            invitation_id=invitation.id,
            ip=(ip or None) and str(ip)[:64],
            user_agent=(user_agent or None) and str(user_agent)[:300],
            text_version=TEXTS[kind].version,
            signer_name=signer_name,
        )
    )
    return result.consent
