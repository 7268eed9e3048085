"""Enrolment requests without HTTP: consent, the practice's answers, the texts, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from assistant.audit import AuditEvent
from assistant.contacts.optout import mark_opted_out
from assistant.contacts.segments import fits
from assistant.enrolment import notices
from assistant.enrolment import requests as req
from assistant.enrolment.escalation import escalate_unanswered
from assistant.enrolment.funnel import mark
from assistant.enrolment.models import EnrolmentRequest, FunnelMark, RequestStatus, Stage
from assistant.errors import Conflict, Forbidden, Invalid
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.pcw.models import FollowUpTask, Referral
from assistant.people.models import Practice, Role
from tests import factories
from tests.clock import FIXED_NOW

PHONE = "+64210000123"


def _practices(session: Session) -> tuple[Practice, Practice, Practice]:
    here = factories.practice(
        session,
        name="Riccarton Family Health",
        phone="03 348 1000",
        latitude=-43.5309,
        longitude=172.5986,
        accepting_new_patients=True,
    )
    near = factories.practice(
        session,
        name="Hornby Health Hub",
        phone="03 349 4000",
        latitude=-43.544,
        longitude=172.526,
        accepting_new_patients=True,
    )
    stale = factories.practice(
        session,
        name="Stale Clinic",
        phone="03 111 1111",
        latitude=-43.531,
        longitude=172.599,
        accepting_new_patients=True,
        accepting_confirmed_at=FIXED_NOW - timedelta(days=31),
    )
    return here, near, stale


def _ask(
    session: Session,
    practice: Practice,
    *,
    name: str,
    language: str,
    now: datetime = FIXED_NOW,
    barriers: list[str] | None = None,
) -> EnrolmentRequest:
    """A consented request by the test phone, as the SMS guide makes one."""
    return req.create_request(
        session,
        practice_id=practice.id or 0,
        name=name,
        phone=PHONE,
        language=language,
        consent=True,
        now=now,
        barriers=barriers,
    )


def _texts(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def test_no_consent_shares_nothing(session: Session) -> None:
    here, _near, _stale = _practices(session)
    with pytest.raises(req.NoConsent):
        req.create_request(
            session,
            practice_id=here.id or 0,
            name="Sina",
            phone=PHONE,
            language="sm",
            consent=False,
            now=FIXED_NOW,
        )
    session.rollback()
    assert session.exec(select(EnrolmentRequest)).all() == []
    assert session.exec(select(FunnelMark)).all() == []


def test_book_then_enrol_texts_the_person_once_each_in_their_language(session: Session) -> None:
    here, _near, _stale = _practices(session)
    staff = factories.user(session, practice_id=here.id)
    mark(
        session,
        person=f"phone:{PHONE}",
        stage=Stage.texted,
        at=FIXED_NOW - timedelta(days=3),
        language="sm",
    )
    request = _ask(session, here, name="Sina Tuilagi", language="sm", barriers=["transport"])
    again = _ask(session, here, name="Sina Tuilagi", language="sm")
    assert again.id == request.id
    session.commit()
    assert request.interpreter and request.first_contact_at is not None

    seen = req.get_for_practice(session, user=staff, request_id=request.id or 0)
    req.book(
        session,
        user=staff,
        request=seen,
        message="Come Tuesday 10am, bring your passport.",
        now=FIXED_NOW + timedelta(hours=1),
    )
    req.book(
        session,
        user=staff,
        request=seen,
        message="Come Tuesday 10am, bring your passport.",
        now=FIXED_NOW + timedelta(hours=1),
    )
    req.mark_enrolled(session, user=staff, request=seen, now=FIXED_NOW + timedelta(days=2))
    req.mark_enrolled(session, user=staff, request=seen, now=FIXED_NOW + timedelta(days=2))
    session.commit()

    texts = _texts(session)
    assert [t.purpose for t in texts] == ["enrolment-booked", "enrolment-enrolled"]
    assert all(t.to == PHONE and fits(t.body) for t in texts)
    assert "Come Tuesday 10am" in texts[0].body and "Riccarton Family Health" in texts[0].body
    assert "can take you on" not in texts[0].body  # Samoan, not English
    stages = {m.stage for m in session.exec(select(FunnelMark))}
    assert stages == {"texted", "practice_chosen", "request_sent", "accepted", "enrolled"}
    assert request.status == RequestStatus.enrolled
    with pytest.raises(Conflict):
        req.decline(session, user=staff, request=seen, reason="full", note="", now=FIXED_NOW)
    actions = {
        e.action
        for e in session.exec(select(AuditEvent).where(AuditEvent.entity == "enrolment_request"))
    }
    assert {"created", "viewed", "changed"} <= actions


def test_another_practice_cannot_see_the_request(session: Session) -> None:
    here, near, _stale = _practices(session)
    other = factories.user(session, practice_id=near.id)
    pcw = factories.user(session, role=Role.pcw)
    request = _ask(session, here, name="Ali", language="ar")
    session.commit()
    with pytest.raises(Forbidden):
        req.get_for_practice(session, user=other, request_id=request.id or 0)
    with pytest.raises(Forbidden):
        req.get_for_practice(session, user=pcw, request_id=request.id or 0)


def test_decline_names_the_nearest_listed_practices_and_offers_a_call(session: Session) -> None:
    here, near, stale = _practices(session)
    staff = factories.user(session, practice_id=here.id)
    request = _ask(session, here, name="Ali", language="en")
    req.decline(
        session, user=staff, request=request, reason="full", note="Books closed", now=FIXED_NOW
    )
    session.commit()
    (text,) = _texts(session)
    assert near.name in text.body and stale.name not in text.body
    assert "1 Yes 2 No" in text.body and fits(text.body)


def test_a_practices_words_are_texted_whole_or_refused_never_cut(session: Session) -> None:
    here, _near, _stale = _practices(session)
    staff = factories.user(session, practice_id=here.id)
    request = _ask(session, here, name="Sina Tuilagi", language="sm")
    session.commit()
    question = (
        "Talofa Sina, o fea lou tuatusi i le taimi nei? E iai sau kata CSC po o se pepa mai le "
        "WINZ? Faʻamolemole aumai lau pasese po o se laisene avetaavale pe a e sau. Faʻafetai"
    )
    _plain, room = req.message_room(session, request, "info_needed")
    too_long = f"{question} {question}"
    with pytest.raises(Invalid) as refused:
        req.ask_for_information(
            session, user=staff, request=request, message=too_long, now=FIXED_NOW
        )
    assert refused.value.message == (f"Use at most {room} characters (you typed {len(too_long)}).")
    assert request.status == RequestStatus.sent and request.practice_message == ""
    assert _texts(session) == []

    req.ask_for_information(session, user=staff, request=request, message=question, now=FIXED_NOW)
    session.commit()
    (text,) = _texts(session)
    assert question in text.body and fits(text.body, notices.ANSWER_SEGMENTS)
    assert request.status == RequestStatus.info_needed


def test_stop_stops_the_practice_texts(session: Session) -> None:
    here, _near, _stale = _practices(session)
    staff = factories.user(session, practice_id=here.id)
    request = _ask(session, here, name="Ali", language="en")
    mark_opted_out(session, phone=PHONE)
    session.commit()
    req.book(session, user=staff, request=request, message="Monday 9am", now=FIXED_NOW)
    session.commit()
    (text,) = _texts(session)
    assert text.status == OutboxStatus.cancelled


def test_unanswered_for_two_business_days_becomes_a_pcw_task(session: Session) -> None:
    here, _near, _stale = _practices(session)
    # Friday 4 pm in New Zealand: due at close of business on Tuesday.
    friday = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    request = _ask(session, here, name="Ali Hassan", language="ar", now=friday)
    session.commit()
    monday_evening = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert escalate_unanswered(session, now=monday_evening) == []
    wednesday = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    assert [r.id for r in escalate_unanswered(session, now=wednesday)] == [request.id]
    assert escalate_unanswered(session, now=wednesday) == []
    session.commit()
    (task,) = session.exec(select(FollowUpTask)).all()
    assert task.kind == "enrolment" and task.referral_id is not None
    referral = session.get(Referral, task.referral_id)
    assert referral is not None and referral.phone == PHONE
    (text,) = _texts(session)
    assert text.purpose == "enrolment-escalated" and here.name in text.body


def test_a_new_request_emails_the_practice_staff_who_want_it(session: Session) -> None:
    from assistant.notify.models import EmailKind, QueuedEmail
    from assistant.notify.preferences import set_preferences

    here, near, _stale = _practices(session)
    wants = factories.user(session, practice_id=here.id, email="front@here.example.nz")
    no_thanks = factories.user(session, practice_id=here.id, email="off@here.example.nz")
    factories.user(session, practice_id=near.id, email="elsewhere@near.example.nz")
    assert no_thanks.id is not None
    set_preferences(
        session,
        user_id=no_thanks.id,
        role=Role.practice_staff,
        enabled={EmailKind.enrolment_new: False},
    )
    for _ in range(2):  # the same request twice: one email
        request = _ask(session, here, name="Ali Hassan", language="ar")
    session.commit()
    emails = session.exec(select(QueuedEmail)).all()
    assert [(e.to, e.kind) for e in emails] == [(wants.email, "enrolment_new")]
    assert f"/practice/new-patients/{request.id}" in emails[0].params
    assert "Ali" not in emails[0].params  # no personal details in an email
