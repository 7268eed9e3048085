"""The community worker's side of enrolment requests: every request's journey, and asking a
practice to take someone on from a referral or an assessment."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from assistant.audit import AuditEvent
from assistant.enrolment import on_behalf
from assistant.enrolment import requests as req
from assistant.enrolment.escalation import escalate_unanswered
from assistant.enrolment.models import EnrolmentRequest, FunnelMark, RequestSource
from assistant.forms.models import FormSubmission
from assistant.pcw.models import Referral
from assistant.pcw.referrals import create_referral
from assistant.people.models import Practice, Role, User
from tests import factories
from tests.clock import FIXED_NOW
from tests.conftest import Client
from tests.html import parse

PHONE = "+64210000345"


def _practice(session: Session, **kw: Any) -> Practice:
    fields: dict[str, Any] = {
        "name": "Riccarton Family Health",
        "phone": "03 348 1000",
        "latitude": -43.5309,
        "longitude": 172.5986,
        "accepting_new_patients": True,
    }
    return factories.practice(session, **(fields | kw))


def _referral(session: Session, **kw: Any) -> Referral:
    fields: dict[str, Any] = {
        "source": "sms",
        "phone": PHONE,
        "language": "sm",
        "transcript": "",
        "barriers": ["transport", "cost"],
        "reason": "callback",
        "contact_name": "Losa Faleolo",
    }
    referral = create_referral(session, **(fields | kw))
    session.commit()
    return referral


def _submission(session: Session, writer: User, **answers: Any) -> FormSubmission:
    given = {
        "consent": "yes",
        "person_name": "Mariam Haddad",
        "phone": "+64210000456",
        "main_language": "arabic",
        "interpreter_needed": "yes",
        "barriers": ["language", "system_knowledge", "other"],
    } | answers
    submission = FormSubmission(
        instance_id=str(uuid.uuid4()),
        form_id="barrier_assessment",
        form_version="1",
        lang="en",
        answers=json.dumps(given),
        content_hash="x" * 64,
        submitted_by_id=writer.id or 0,
        agency_id=writer.agency_id,
        consent=True,
    )
    session.add(submission)
    session.commit()
    session.refresh(submission)
    return submission


def _requests(session: Session) -> list[EnrolmentRequest]:
    session.expire_all()
    return list(session.exec(select(EnrolmentRequest).order_by(col(EnrolmentRequest.id))))


def _form(practice: Practice, **kw: str) -> dict[str, str]:
    return {
        "practice_id": str(practice.id),
        "name": "Losa Faleolo",
        "phone": "021 0000 345",
        "language": "sm",
        "interpreter": "on",
        "note": "Best after 3 pm.",
        "consent": "on",
    } | kw


# -- following a request's journey --------------------------------------------------------------


def test_the_list_and_the_journey_show_each_step_in_order_with_what_was_texted(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    staff = factories.user(session, practice_id=practice.id, name="Reception Riccarton")
    made = FIXED_NOW - timedelta(days=6)
    request = req.create_request(
        session,
        practice_id=practice.id or 0,
        name="Losa Faleolo",
        phone=PHONE,
        language="sm",
        consent=True,
        now=made,
        barriers=["transport"],
    )
    escalate_unanswered(session, now=made + timedelta(days=4))
    req.book(
        session,
        user=staff,
        request=request,
        message="Come in Thursday 10:30 am. Bring photo ID.",
        now=FIXED_NOW - timedelta(hours=1),
    )
    session.commit()
    assert request.id is not None

    login(factories.user(session, Role.pcw))
    listing = client.get("/pcw/enrolments?show=all")
    assert listing.status_code == 200
    assert parse(listing.text).attribute_values("data-enrolment") == [str(request.id)]
    assert "Losa Faleolo" in listing.text and "Riccarton Family Health" in listing.text
    assert "Booked with the practice" in listing.text
    assert "Handed to community workers" in listing.text
    assert "Answered after 5 days" in listing.text
    escalated = parse(client.get("/pcw/enrolments?show=escalated").text)
    assert escalated.attribute_values("data-enrolment") == [str(request.id)]
    closed = parse(client.get("/pcw/enrolments?show=closed").text)
    assert closed.attribute_values("data-enrolment") == []

    journey = client.get(f"/pcw/enrolments/{request.id}")
    assert journey.status_code == 200
    page = parse(journey.text)
    assert page.attribute_values("data-event") == ["sent", "escalated", "booked"]
    assert len(page.attribute_values("data-outbox")) == 2  # the escalation's text and the booking's
    assert "Come in Thursday 10:30 am. Bring photo ID." in journey.text
    assert "Reception Riccarton" in journey.text
    assert "Waiting to send" in journey.text  # the outbox status of the texts
    links = page.links()
    assert f"/pcw/referrals/{request.referral_id}" in links
    assert any(link.endswith(f"#task-{request.escalation_task_id}") for link in links)
    viewed = session.exec(
        select(AuditEvent).where(
            AuditEvent.entity == "enrolment_request",
            AuditEvent.entity_id == str(request.id),
            AuditEvent.action == "viewed",
        )
    ).all()
    assert len(viewed) == 1


def test_a_declined_request_shows_the_reason_and_what_the_person_was_told_in_arabic(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    staff = factories.user(session, practice_id=practice.id)
    request = req.create_request(
        session,
        practice_id=practice.id or 0,
        name="Mariam Haddad",
        phone=PHONE,
        language="ar",
        consent=True,
        now=FIXED_NOW - timedelta(days=1),
    )
    req.decline(
        session,
        user=staff,
        request=request,
        reason="full",
        note="Try again in March",
        now=FIXED_NOW,
    )
    session.commit()
    login(factories.user(session, Role.pcw, locale="ar"))
    journey = client.get(f"/pcw/enrolments/{request.id}")
    assert journey.status_code == 200
    page = parse(journey.text)
    assert page.dir == "rtl"
    assert page.attribute_values("data-event") == ["sent", "declined"]
    assert "قائمة العيادة ممتلئة" in journey.text  # the reason: the practice's list is full
    assert "Try again in March" in journey.text
    [text] = page.attribute_values("data-outbox")
    assert "Riccarton Family Health" in page.find(f'[data-outbox="{text}"]').text()
    listing = client.get("/pcw/enrolments?show=closed")
    assert "طلبات التسجيل" in listing.text  # "Enrolment requests"
    assert parse(listing.text).attribute_values("data-enrolment") == [str(request.id)]


def test_open_requests_wait_longest_first_and_say_how_long(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    for name, hours in (("Newer Person", 3), ("Older Person", 50)):
        req.create_request(
            session,
            practice_id=practice.id or 0,
            name=name,
            phone=None,
            language="en",
            consent=True,
            now=FIXED_NOW - timedelta(hours=hours),
        )
    session.commit()
    login(factories.user(session, Role.coordinator))
    response = client.get("/pcw/enrolments")
    assert response.text.index("Older Person") < response.text.index("Newer Person")
    assert "Waiting for 2 days" in response.text and "Waiting for 3 hours" in response.text
    fragment = client.get("/pcw/enrolments?show=closed", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and parse(fragment.text).has("#enrolments")


def test_practice_staff_cannot_open_the_community_workers_pages(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    request = req.create_request(
        session,
        practice_id=practice.id or 0,
        name="Losa Faleolo",
        phone=PHONE,
        language="sm",
        consent=True,
        now=FIXED_NOW,
    )
    session.commit()
    referral = _referral(session)
    submission = _submission(session, factories.user(session, Role.pcw))
    login(factories.user(session, practice_id=practice.id, practice_manager=True))
    assert client.get("/pcw/enrolments").status_code == 403
    assert client.get(f"/pcw/enrolments/{request.id}").status_code == 403
    assert client.get(f"/pcw/assessments/{submission.id}/enrolment").status_code == 403
    posted = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=_form(practice))
    assert posted.status_code == 403
    assert len(_requests(session)) == 1


# -- asking a practice from a referral ----------------------------------------------------------


def test_a_request_from_a_referral_with_consent_is_made_once(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    referral = _referral(session)
    pcw = factories.user(session, Role.pcw)
    login(pcw)
    page = parse(client.get(f"/pcw/referrals/{referral.id}").text)
    assert page.field("name").attr("value") == "Losa Faleolo"
    assert page.field("phone").attr("value") == PHONE
    assert page.selected("language") == ["sm"]
    assert page.field("interpreter").checked
    assert not page.field("consent").checked

    first = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=_form(practice))
    assert first.status_code == 303
    [made] = _requests(session)
    assert first.headers["location"] == f"/pcw/enrolments/{made.id}?made=1"
    assert made.source == RequestSource.pcw and made.created_by_id == pcw.id
    assert made.referral_id == referral.id and made.phone == PHONE
    assert made.barriers == ["cost", "transport"] and made.interpreter
    assert made.note == "Best after 3 pm."

    again = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=_form(practice))
    assert again.status_code == 303
    assert again.headers["location"] == f"/pcw/enrolments/{made.id}?already=1"
    assert len(_requests(session)) == 1
    assert "already has an open request" in client.get(again.headers["location"]).text

    shown = parse(client.get(f"/pcw/referrals/{referral.id}").text)
    assert shown.attribute_values("data-enrolment") == [str(made.id)]


def test_without_consent_nothing_is_stored_and_the_form_keeps_what_was_typed(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    referral = _referral(session)
    login(factories.user(session, Role.pcw))
    form = _form(practice, name="Losa F.", note="Ring her sister first")
    del form["consent"]
    response = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=form)
    assert response.status_code == 422
    assert "tick the box to confirm the person agreed" in response.text
    page = parse(response.text)
    assert page.field("name").attr("value") == "Losa F."
    assert page.selected("practice_id") == [str(practice.id)]
    assert "Ring her sister first" in response.text
    assert page.field("consent").get("aria-invalid") == "true"
    assert _requests(session) == []
    assert session.exec(select(FunnelMark)).all() == []


def test_a_samoan_speaking_worker_is_told_in_samoan_when_consent_is_missing(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    referral = _referral(session)
    login(factories.user(session, Role.pcw, locale="sm"))
    form = _form(practice)
    del form["consent"]
    response = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=form)
    assert response.status_code == 422
    assert "E leai se mea na lafo" in response.text
    assert "tick the box" not in response.text
    assert _requests(session) == []


def test_only_practices_taking_new_patients_are_offered_the_confirmed_ones_first(
    client: Client, login: Any, session: Session
) -> None:
    stale = _practice(
        session, name="Aranui Clinic", accepting_confirmed_at=FIXED_NOW - timedelta(days=45)
    )
    fresh = _practice(session, name="Sumner Health")
    full = _practice(session, name="Full Practice", accepting_new_patients=False)
    closed = _practice(session, name="Closed Practice", active=False)
    referral = _referral(session)
    login(factories.user(session, Role.pcw))
    page = parse(client.get(f"/pcw/referrals/{referral.id}").text)
    offered = [value for value, _name in page.options("practice_id") if value]
    assert offered == [str(fresh.id), str(stale.id)]
    for refused in (full, closed):
        response = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=_form(refused))
        assert response.status_code == 422
        assert "Choose a practice from the list." in response.text
    assert _requests(session) == []


def test_another_agencys_referral_cannot_be_used(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    referral = _referral(session, agency_id=factories.agency(session).id)
    login(factories.user(session, Role.pcw))
    response = client.post(f"/pcw/referrals/{referral.id}/enrolment", data=_form(practice))
    assert response.status_code == 404
    assert _requests(session) == []


# -- asking a practice from an assessment ---------------------------------------------------


def test_from_an_assessment_the_person_is_filled_in_and_the_request_made(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    writer = factories.user(session, Role.pcw)
    submission = _submission(session, writer)
    login(writer)
    shown = client.get(f"/forms/submissions/{submission.id}")
    assert f"/pcw/assessments/{submission.id}/enrolment" in parse(shown.text).links()
    form = client.get(f"/pcw/assessments/{submission.id}/enrolment")
    assert form.status_code == 200
    page = parse(form.text)
    assert page.field("name").attr("value") == "Mariam Haddad"
    assert page.field("phone").attr("value") == "+64210000456"
    assert page.selected("language") == ["ar"]
    assert page.field("interpreter").checked

    posted = client.post(
        f"/pcw/assessments/{submission.id}/enrolment",
        data={
            "practice_id": str(practice.id),
            "name": "Mariam Haddad",
            "phone": "+64210000456",
            "language": "ar",
            "interpreter": "on",
            "consent": "on",
        },
    )
    assert posted.status_code == 303
    [made] = _requests(session)
    assert made.submission_id == submission.id and made.language == "ar"
    assert made.barriers == ["language", "system-knowledge"]
    again = parse(client.get(f"/pcw/assessments/{submission.id}/enrolment").text)
    assert again.attribute_values("data-enrolment") == [str(made.id)]


def test_a_pcw_who_cannot_open_the_assessment_cannot_ask_from_it(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    submission = _submission(session, factories.user(session, Role.pcw))
    login(factories.user(session, Role.pcw))  # another agency
    assert client.get(f"/pcw/assessments/{submission.id}/enrolment").status_code == 403
    posted = client.post(
        f"/pcw/assessments/{submission.id}/enrolment",
        data={"practice_id": str(practice.id), "name": "Mariam", "consent": "on"},
    )
    assert posted.status_code == 403
    assert client.get("/pcw/assessments/999999/enrolment").status_code == 404
    assert _requests(session) == []


# -- without HTTP -------------------------------------------------------------------------------


def test_the_assessments_answers_fill_in_the_form(session: Session) -> None:
    writer = factories.user(session, Role.pcw)
    sign = _submission(session, writer, main_language="nzsl", interpreter_needed="yes")
    assert on_behalf.values_from_submission(sign)["language"] == "en"
    assert on_behalf.values_from_submission(sign)["interpreter"] == "on"
    tongan = _submission(session, writer, main_language="tongan", interpreter_needed="no")
    assert on_behalf.values_from_submission(tongan)["language"] == "to"
    assert on_behalf.values_from_submission(tongan)["interpreter"] == ""
    nothing = _submission(session, writer, barriers=None, person_name=None)
    assert on_behalf.values_from_submission(nothing)["name"] == ""
    assert on_behalf.barriers_of_submission(nothing) == []


def test_without_a_phone_a_second_press_makes_no_second_request(session: Session) -> None:
    practice = _practice(session)
    referral = _referral(session, phone=None)
    pcw = factories.user(session, Role.pcw)
    fields = _form(practice, phone="")
    first = on_behalf.make_for_referral(
        session, user=pcw, referral=referral, fields=fields, now=FIXED_NOW
    )
    second = on_behalf.make_for_referral(
        session, user=pcw, referral=referral, fields=fields, now=FIXED_NOW
    )
    assert first.created and not second.created
    assert second.request.id == first.request.id
    assert len(_requests(session)) == 1


def test_a_referral_says_in_words_when_its_request_went_unanswered(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    referral = _referral(session)
    made = FIXED_NOW - timedelta(days=6)
    req.create_request(
        session,
        practice_id=practice.id or 0,
        name="Losa Faleolo",
        phone=PHONE,
        language="sm",
        consent=True,
        now=made,
        referral_id=referral.id,
    )
    escalate_unanswered(session, now=made + timedelta(days=4))
    session.commit()
    login(factories.user(session, Role.pcw))
    page = parse(client.get(f"/pcw/referrals/{referral.id}").text)
    note = page.find('li[data-kind="unanswered"]').text()
    assert (
        "Riccarton Family Health has not answered the enrolment request in 2 working days." in note
    )
    assert "Marked as" not in note


def test_a_landline_is_refused_because_the_practices_answers_are_texted(
    client: Client, login: Any, session: Session
) -> None:
    practice = _practice(session)
    referral = _referral(session)
    login(factories.user(session, Role.pcw))
    for landline in ("03 348 1000", "0800 123 456"):
        response = client.post(
            f"/pcw/referrals/{referral.id}/enrolment", data=_form(practice, phone=landline)
        )
        assert response.status_code == 422
        assert "Enter a mobile number" in response.text
        assert parse(response.text).field("phone").attr("value") == landline
    assert _requests(session) == []


def test_the_same_referral_with_its_phone_corrected_makes_no_second_request(
    session: Session,
) -> None:
    practice = _practice(session)
    referral = _referral(session)
    pcw = factories.user(session, Role.pcw)
    first = on_behalf.make_for_referral(
        session, user=pcw, referral=referral, fields=_form(practice), now=FIXED_NOW
    )
    corrected = on_behalf.make_for_referral(
        session,
        user=pcw,
        referral=referral,
        fields=_form(practice, phone="+64215551234"),
        now=FIXED_NOW,
    )
    assert first.created and not corrected.created
    assert corrected.request.id == first.request.id
    assert len(_requests(session)) == 1
