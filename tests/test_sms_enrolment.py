"""Asking a practice to enrol you, by SMS: pick or name a practice, give a name, consent."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select
from twilio.request_validator import RequestValidator

from assistant.app import create_app
from assistant.contacts.segments import fits
from assistant.enrolment import notices
from assistant.enrolment import requests as req
from assistant.enrolment.models import EnrolmentRequest, FunnelMark, RequestStatus
from assistant.knowledge import get_knowledge_base
from assistant.outbox.models import OutboxMessage, OutboxStatus
from assistant.people.models import Practice, Role
from assistant.settings import Settings
from assistant.sms import messages as msg
from assistant.sms.guide import PracticeName, named_practice
from tests import factories
from tests.clock import FIXED_NOW
from tests.conftest import Client
from tests.sms_texting import PHO_PHONE, Texter, said

PHONE = "+64211234567"
_sids = itertools.count(1)


class EnrolmentTexter(Texter):
    """A texter who can also see their enrolment requests and funnel marks."""

    def requests(self) -> list[EnrolmentRequest]:
        self.session.expire_all()
        return list(
            self.session.exec(
                select(EnrolmentRequest)
                .where(EnrolmentRequest.phone == self.phone)
                .order_by(col(EnrolmentRequest.id))
            )
        )

    def stages(self) -> dict[str, int | None]:
        self.session.expire_all()
        marks = self.session.exec(
            select(FunnelMark).where(FunnelMark.person == f"phone:{self.phone}")
        )
        return {m.stage: m.practice_id for m in marks}


@pytest.fixture
def text(session: Session) -> EnrolmentTexter:
    return EnrolmentTexter(session, PHONE, FIXED_NOW)


def practices(session: Session) -> dict[str, Practice]:
    """Practices around Riccarton: two taking patients, one full, one whose listing is stale."""
    rows = {
        # name: latitude, longitude, accepting, days since confirmed, phone
        "Riccarton Family Health": (-43.5309, 172.5986, True, 0, "03 348 1000"),
        "Hornby Health Hub": (-43.5440, 172.5260, True, 3, "03 349 4000"),
        "Full Up Surgery": (-43.5300, 172.5960, False, 1, "03 555 0001"),
        "Stale Clinic": (-43.5310, 172.5990, True, 31, "03 555 0002"),
    }
    return {
        name: factories.practice(
            session,
            name=name,
            latitude=lat,
            longitude=lon,
            accepting_new_patients=accepting,
            accepting_confirmed_at=FIXED_NOW - timedelta(days=days),
            phone=phone,
            fee_notes="Adults $19.50",
        )
        for name, (lat, lon, accepting, days, phone) in rows.items()
    }


# greeting, yes, a barrier (and which), a name
PATHS = {
    "en": ("Hello", "yes", "I have no car to get there", "transport", "Mele Tupou"),
    "sm": ("Talofa", "ioe", "leai se taavale e alu ai i le fomai", "transport", "Sina Tuilagi"),
    "ar": ("مرحبا", "نعم", "ما عندي سيارة", "transport", "فاطمة أحمد"),
}


@pytest.mark.parametrize("lang", list(PATHS))
def test_the_whole_ask_a_practice_path(text: EnrolmentTexter, session: Session, lang: str) -> None:
    greeting, yes, barrier, barrier_kind, name = PATHS[lang]
    made = practices(session)
    practice = made["Riccarton Family Health"]
    assert text(greeting) == said(lang, msg.welcome)
    text("1")
    assert text(yes) == said(lang, msg.eligible)
    text(barrier)  # told us about a barrier on the way
    listing = text("Riccarton")
    assert "1. Riccarton Family Health, 03 348 1000" in listing
    assert "Stale Clinic" not in listing and "Full Up Surgery" not in listing

    assert text("1") == said(lang, msg.ask_name, practice.name)
    assert text(name) == said(lang, msg.ask_consent, practice.name)
    assert text.requests() == []  # nothing before consent
    reply = text(yes)
    assert reply == notices.request_sent(lang, practice)
    if lang != "en":
        assert reply != notices.request_sent("en", practice)
    assert fits(reply)

    [request] = text.requests()
    assert (request.practice_id, request.name, request.phone) == (practice.id, name, PHONE)
    assert request.language == lang
    assert request.interpreter is (lang != "en")
    assert request.barriers == [barrier_kind]
    assert request.source == "sms" and request.contact_id == text.contact.id
    assert request.status == RequestStatus.sent and request.consent_at is not None
    assert text.stages() == {
        "texted": None,
        "eligible": None,
        "practice_chosen": practice.id,
        "request_sent": practice.id,
    }
    contact = text.contact
    assert contact.step == "menu"
    assert name not in contact.answers  # kept only until it was sent


def test_choosing_by_number_after_more_practices_in_arabic(
    text: EnrolmentTexter, session: Session
) -> None:
    made = practices(session)
    text("مرحبا")
    text("2")
    listing = text("Riccarton")
    lines = listing.splitlines()
    assert lines[-1] == said("ar", msg.practices_footer_more)  # one at a time in UCS-2
    more = text(str(msg.MORE_PRACTICES))
    assert "2. Hornby Health Hub, 03 349 4000" in more
    assert text("2") == said("ar", msg.ask_name, "Hornby Health Hub")
    assert text.stages()["practice_chosen"] == made["Hornby Health Hub"].id


def test_what_to_bring_and_the_main_menu_still_work_after_the_list(
    text: EnrolmentTexter, session: Session
) -> None:
    practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    assert text(str(msg.WHAT_TO_BRING)) == said("en", msg.what_to_bring)
    text("Riccarton")
    assert text("4") == said("en", msg.costs)  # a main menu number no practice has
    text("Riccarton")
    assert text("ok") == said("en", msg.practices_footer)  # which one?
    assert text("0") == said("en", msg.menu_again)


def test_more_when_every_practice_was_shown_says_so(
    text: EnrolmentTexter, session: Session
) -> None:
    practices(session)
    text("hello")
    text("2")
    listing = text("Riccarton")
    assert listing.splitlines()[-1] == said("en", msg.practices_footer)
    assert text(str(msg.MORE_PRACTICES)) == said("en", msg.practices_all_shown)


def test_consent_no_stores_and_shares_nothing_and_gives_the_phone(
    text: EnrolmentTexter, session: Session
) -> None:
    practices(session)
    text("Talofa")
    text("2")
    text("Riccarton")
    text("1")
    text("Sina Tuilagi")
    reply = text("leai")
    assert reply == said("sm", msg.consent_declined, "Riccarton Family Health", "03 348 1000")
    assert "03 348 1000" in reply
    assert text.requests() == []
    assert text.referrals() == []
    assert set(text.stages()) == {"texted", "practice_chosen"}
    contact = text.contact
    assert contact.step == "menu" and "Sina" not in contact.answers


def test_an_unclear_answer_to_consent_is_explained_and_asked_again(
    text: EnrolmentTexter, session: Session
) -> None:
    made = practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    text("Mele Tupou")
    explain = said("en", msg.consent_explain, "Riccarton Family Health")
    assert text("not sure") == explain
    assert text("hmm") == explain
    assert text.requests() == []
    assert text("yes") == notices.request_sent("en", made["Riccarton Family Health"])
    assert len(text.requests()) == 1


@pytest.mark.parametrize(
    "message",
    [
        "I want to join Riccarton Family Health",
        "can i go to riccarton famly helth",  # misspelt
        "Riccarton Family Health please",
    ],
)
def test_naming_a_practice_offers_to_ask_it(
    text: EnrolmentTexter, session: Session, message: str
) -> None:
    made = practices(session)
    text("hello")
    text("1")  # in the middle of the eligibility questions
    assert text(message) == said("en", msg.ask_name, "Riccarton Family Health")
    assert text.contact.step == "ask_name"
    assert text.stages()["practice_chosen"] == made["Riccarton Family Health"].id


def test_naming_a_practice_in_the_first_message(text: EnrolmentTexter, session: Session) -> None:
    practices(session)
    assert text("I want to join Riccarton Family Health") == said(
        "en", msg.ask_name, "Riccarton Family Health"
    )
    assert set(text.stages()) == {"texted", "practice_chosen"}


@pytest.mark.parametrize(
    "message",
    [
        "Riccarton",  # a suburb: the practices near it
        "Riccarton health",  # part of a name
        "is Stale Clinic taking people",  # not listed (confirmed 31 days ago)
        "I want Full Up Surgery",  # not taking new patients
    ],
)
def test_a_practice_is_offered_only_when_one_listed_practice_is_named(
    text: EnrolmentTexter, session: Session, message: str
) -> None:
    practices(session)
    text("hello")
    reply = text(message)
    assert text.contact.step != "ask_name"
    assert "To ask" not in reply
    assert "practice_chosen" not in text.stages()


NAMES = ["Riccarton Family Health", "Riccarton Clinic", "Hornby", "Pegasus", "Sydenham Doctors"]


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("I want to join Riccarton Family Health", "Riccarton Family Health"),
        ("riccarton famly helth pls", "Riccarton Family Health"),
        ("riccartonfamily health", "Riccarton Family Health"),
        ("is riccarton clinic taking people", "Riccarton Clinic"),
        ("sydenham doctor", "Sydenham Doctors"),
        ("Pegasus please", "Pegasus"),
        ("I live in Hornby", None),  # a one-word name that is a suburb's
        ("Riccarton", None),
        ("a clinic in riccarton", None),
        ("any doctors in sydenham", None),
    ],
)
def test_named_practice(message: str, named: str | None) -> None:
    found = named_practice(message, [PracticeName(n, name) for n, name in enumerate(NAMES)])
    assert (found.name if found else None) == named


def test_a_message_naming_two_practices_names_none() -> None:
    both = [PracticeName(1, "Riccarton Family Health"), PracticeName(2, "Hornby Health Hub")]
    assert named_practice("Riccarton Family Health or Hornby Health Hub?", both) is None
    annex = [
        PracticeName(1, "Riccarton Family Health"),
        PracticeName(2, "Riccarton Family Health Annex"),
    ]
    assert named_practice("riccarton family health annex", annex) is annex[1]
    assert named_practice("riccarton family health", annex) is annex[0]


def test_the_list_says_how_recently_each_practice_confirmed(
    text: EnrolmentTexter, session: Session
) -> None:
    practices(session)
    text("hello")
    text("2")
    lines = text("Riccarton").splitlines()
    assert lines[1] == "1. Riccarton Family Health, 03 348 1000, from $19.50, checked today"
    assert lines[2] == "2. Hornby Health Hub, 03 349 4000, from $19.50, checked 3 days ago"
    assert len(lines) == 4  # the practice confirmed 31 days ago is not listed


@pytest.mark.parametrize("lang", ["en", "sm"])
def test_a_safety_message_at_the_name_step_gets_111_then_the_step_goes_on(
    text: EnrolmentTexter, session: Session, lang: str
) -> None:
    emergency = {
        "en": "my dad has chest pain and cant breathe",
        "sm": "Talofa, o loʻo tiga le fatafata o loʻu tama",
    }[lang]
    practices(session)
    text(PATHS[lang][0])
    text("2")
    text("Riccarton")
    text("1")
    reply = text(emergency)
    assert reply == said(lang, msg.emergency)
    assert "111" in reply and "1737" in reply
    assert [r.urgent for r in text.referrals()] == [True]
    assert text.contact.step == "ask_name"
    assert text(PATHS[lang][4]) == said(lang, msg.ask_consent, "Riccarton Family Health")


def test_a_crisis_message_at_the_consent_step_gets_1737(
    text: EnrolmentTexter, session: Session
) -> None:
    practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    text("Mele Tupou")
    reply = text("I want to kill myself")
    assert reply == said("en", msg.crisis_support)
    assert [r.urgent for r in text.referrals()] == [True]
    assert text.requests() == []


@pytest.mark.parametrize("name", ["Hornby", "Sam Hornby", "Tonga", "my name is Ana Lee"])
def test_a_name_is_a_name_even_when_it_is_a_suburb(
    text: EnrolmentTexter, session: Session, name: str
) -> None:
    practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    assert text(name) == said("en", msg.ask_consent, "Riccarton Family Health")
    text("1")
    [request] = text.requests()
    assert request.name == name.removeprefix("my name is ")
    assert request.language == "en"


def test_a_side_question_at_the_name_step_is_answered_then_asked_again(
    text: EnrolmentTexter, session: Session
) -> None:
    practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    entry = get_knowledge_base().get("enrol-documents")
    assert entry is not None
    reply = text("What do I need to bring when I enrol?")
    body = " ".join(entry.variant("en").body_text.split())
    assert reply.startswith(body[:15])
    assert reply.endswith(
        (said("en", msg.ask_name, "Riccarton Family Health"), said("en", msg.resume_name))
    )
    assert fits(reply)
    assert text.contact.step == "ask_name"
    assert text("what colour is the sky") == said("en", msg.ask_name_again)
    assert text("Mele Tupou") == said("en", msg.ask_consent, "Riccarton Family Health")


def test_help_lang_and_menu_work_at_the_name_step(text: EnrolmentTexter, session: Session) -> None:
    practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    assert text("HELP") == said("en", msg.help_text, PHO_PHONE)
    assert text.contact.step == "ask_name"
    assert text("0") == said("en", msg.menu_again)
    assert text.contact.step == "menu"
    text("2")
    text("Riccarton")
    text("1")
    assert text("LANG") == said("en", msg.language_menu)
    assert text.requests() == []


def test_stop_at_the_consent_step_stops_everything(text: EnrolmentTexter, session: Session) -> None:
    practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    text("Mele Tupou")
    assert text("STOP") == said("en", msg.opted_out)
    assert text("1") == ""
    assert text.requests() == []
    assert "Mele" not in text.contact.answers
    # Twilio's opt-in words bring the texts back, at the menu: still no request.
    assert text("yes") == said("en", msg.opted_in)
    assert text.requests() == []


def test_after_stop_the_practices_answer_is_not_texted(
    text: EnrolmentTexter, session: Session
) -> None:
    made = practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    text("Mele Tupou")
    text("1")
    assert text("STOP") == said("en", msg.opted_out)
    [request] = text.requests()
    staff = factories.user(
        session, Role.practice_staff, practice_id=made["Riccarton Family Health"].id
    )
    req.book(session, user=staff, request=request, message="Come Tuesday 10am", now=text.now)
    session.commit()
    [sms] = session.exec(select(OutboxMessage)).all()
    assert sms.status == OutboxStatus.cancelled


def test_a_practice_that_stops_taking_patients_meanwhile_gets_no_request(
    text: EnrolmentTexter, session: Session
) -> None:
    made = practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    text("1")
    text("Mele Tupou")
    practice = made["Riccarton Family Health"]
    practice.accepting_new_patients = False
    session.add(practice)
    session.commit()
    assert text("yes") == said("en", msg.practice_unavailable)
    assert text.requests() == []


def test_after_a_practice_declines_a_yes_books_a_call_back(
    text: EnrolmentTexter, session: Session
) -> None:
    made = practices(session)
    text("Talofa")
    text("2")
    text("Riccarton")
    text("1")
    text("Sina Tuilagi")
    text("ioe")
    [request] = text.requests()
    staff = factories.user(
        session, Role.practice_staff, practice_id=made["Riccarton Family Health"].id
    )
    # Two days later (the conversation has been quiet since) the practice says no ...
    declined_at = text.now + timedelta(days=2)
    req.decline(session, user=staff, request=request, reason="full", note="", now=declined_at)
    session.commit()
    assert text.contact.step == "offer_callback"
    # ... and the person answers its "call back? 1 Yes 2 No" an hour later.
    text.now = declined_at + timedelta(hours=1)
    assert text("1") == said("sm", msg.callback_booked)
    [referral] = text.referrals()
    assert referral.reason == "practice-declined"
    assert referral.language == "sm"
    assert "enrolment" in referral.barriers
    assert text.contact.step == "menu"


def test_the_funnel_counts_a_first_text_whatever_it_says(text: EnrolmentTexter) -> None:
    text("STOP")
    assert set(text.stages()) == {"texted"}


def test_a_second_yes_makes_no_second_request(text: EnrolmentTexter, session: Session) -> None:
    practices(session)
    text("hello")
    for _ in range(2):
        text("Riccarton")
        text("1")
        text("Mele Tupou")
        text("yes")
    assert len(text.requests()) == 1


# -- through the signed webhook ----------------------------------------------------------------

PUBLIC = "https://sms.pho.example.nz"


@pytest.fixture
def twilio(settings: Settings) -> Iterator[Callable[[str], str]]:
    """``twilio(body)`` posts a signed inbound message as Twilio does and returns the reply."""
    sms_settings = settings.model_copy(update={"public_base_url": PUBLIC})
    app: FastAPI = create_app(sms_settings)
    client = Client(app, follow_redirects=False)

    def post(body: str) -> str:
        params = {
            "MessageSid": f"SM{next(_sids):032x}",
            "AccountSid": sms_settings.twilio_account_sid,
            "From": PHONE,
            "To": sms_settings.twilio_from_number,
            "Body": body,
            "NumMedia": "0",
        }
        signature = RequestValidator(sms_settings.twilio_auth_token).compute_signature(
            PUBLIC + "/sms/twilio", params
        )
        response = client.post(
            "/sms/twilio", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200, response.text
        found = ET.fromstring(response.text).findall("Message")
        return (found[0].text or "") if found else ""

    with client:
        yield post


def test_asking_a_practice_through_the_webhook(
    twilio: Callable[[str], str], session: Session
) -> None:
    made = practices(session)
    assert twilio("hello") == said("en", msg.welcome)
    twilio("2")
    assert "1. Riccarton Family Health" in twilio("Riccarton")
    assert twilio("1") == said("en", msg.ask_name, "Riccarton Family Health")
    assert twilio("Mele Tupou") == said("en", msg.ask_consent, "Riccarton Family Health")
    assert twilio("1") == notices.request_sent("en", made["Riccarton Family Health"])
    session.expire_all()
    [request] = session.exec(select(EnrolmentRequest)).all()
    assert (request.name, request.phone) == ("Mele Tupou", PHONE)


def test_stop_at_the_consent_step_through_the_webhook(
    twilio: Callable[[str], str], session: Session
) -> None:
    practices(session)
    twilio("hello")
    twilio("I want to join Riccarton Family Health")
    twilio("Mele Tupou")
    assert twilio("STOP") == said("en", msg.opted_out)
    assert twilio("1") == ""
    session.expire_all()
    assert session.exec(select(EnrolmentRequest)).all() == []
