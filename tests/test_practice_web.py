"""The practice's new-patients pages through HTTP: the queue, one request and its answers, and
the practice's "taking new patients" listing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlmodel import Session, col, select

from assistant.audit import AuditEvent
from assistant.contacts import segments
from assistant.enrolment import notices
from assistant.enrolment import requests as req
from assistant.enrolment.models import EnrolmentRequest, RequestSource, RequestStatus
from assistant.outbox.models import OutboxMessage
from assistant.people.models import Practice, Role, User
from tests import factories
from tests.clock import FIXED_NOW
from tests.conftest import Client
from tests.html import parse

HX = {"HX-Request": "true"}
PHONE = "+64210000123"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def riccarton(session: Session) -> Practice:
    return factories.practice(
        session,
        name="Riccarton Family Health",
        phone="03 348 1000",
        latitude=-43.5309,
        longitude=172.5986,
        accepting_new_patients=True,
        fee_notes="Adults $19.50",
    )


@pytest.fixture
def hornby(session: Session) -> Practice:
    return factories.practice(
        session,
        name="Hornby Health Hub",
        phone="03 349 4000",
        latitude=-43.544,
        longitude=172.526,
        accepting_new_patients=True,
    )


@pytest.fixture
def reception(session: Session, riccarton: Practice) -> User:
    return factories.user(session, practice_id=riccarton.id, name="Rita Reception")


@pytest.fixture
def manager(session: Session, riccarton: Practice) -> User:
    return factories.user(
        session, practice_id=riccarton.id, name="Mona Manager", practice_manager=True
    )


@pytest.fixture
def elsewhere(session: Session, hornby: Practice) -> User:
    return factories.user(session, practice_id=hornby.id, name="Hemi Hornby", practice_manager=True)


def make_request(
    session: Session, practice: Practice, name: str, phone: str | None = PHONE, **kw: Any
) -> EnrolmentRequest:
    assert practice.id is not None
    request = req.create_request(
        session,
        practice_id=practice.id,
        name=name,
        phone=phone,
        language=kw.pop("language", "sm"),
        consent=True,
        now=kw.pop("now", FIXED_NOW),
        **kw,
    )
    session.commit()
    return request


@pytest.fixture
def sina(session: Session, riccarton: Practice) -> EnrolmentRequest:
    return make_request(session, riccarton, "Sina Tuilagi", barriers=["transport", "cost"])


def texts(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


def audit_actions(session: Session, request_id: int | None) -> list[str]:
    rows = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == req.ENTITY, AuditEvent.entity_id == str(request_id))
        .order_by(col(AuditEvent.id))
    )
    return [a.action for a in rows]


def status_of(session: Session, request: EnrolmentRequest) -> str:
    session.expire_all()
    fresh = session.get(EnrolmentRequest, request.id)
    assert fresh is not None
    return fresh.status


# -- the queue --------------------------------------------------------------------------------


def test_queue_lists_only_the_own_practices_requests(
    client: Client,
    login: Any,
    session: Session,
    reception: User,
    riccarton: Practice,
    hornby: Practice,
    sina: EnrolmentRequest,
) -> None:
    make_request(session, hornby, "Someone Else", phone="+64210000999")
    login(reception)
    response = client.get("/practice/new-patients")
    assert response.status_code == 200
    rows = parse(response.text).find_all("li.card")
    assert [r.find("h2").text() for r in rows] == ["Sina Tuilagi"]
    row = rows[0].text()
    assert "Transport" in row and "Cost" in row and "Interpreter needed" in row
    assert "Waiting for your answer" in row and "Answer by" in row
    language = rows[0].find('span[lang="sm"]')
    assert language.text() == "Gagana Sāmoa" and language.attrs["dir"] == "ltr"
    # The view is audited.
    assert session.exec(
        select(AuditEvent).where(AuditEvent.entity == req.ENTITY, AuditEvent.entity_id == "list")
    ).first()


def test_queue_badge_counts_unanswered_requests(
    client: Client, login: Any, reception: User, sina: EnrolmentRequest
) -> None:
    login(reception)
    nav = parse(client.get("/").text).find("nav")
    link = nav.find('a[href="/practice/new-patients"]')
    assert "New patients" in link.text() and "1 waiting" in link.text()


def test_queue_views_split_open_and_closed(
    client: Client, login: Any, session: Session, reception: User, sina: EnrolmentRequest
) -> None:
    login(reception)
    client.post(f"/practice/new-patients/{sina.id}/enrolled")
    assert "Sina Tuilagi" not in client.get("/practice/new-patients").text
    assert "Sina Tuilagi" in client.get("/practice/new-patients?show=closed").text
    assert "Sina Tuilagi" in client.get("/practice/new-patients?show=all").text
    # An unknown view is the default one, not an error.
    assert client.get("/practice/new-patients?show=nonsense&page=x").status_code == 200


def test_overdue_request_says_so(
    client: Client, login: Any, session: Session, reception: User, riccarton: Practice
) -> None:
    make_request(session, riccarton, "Late Request", now=FIXED_NOW - timedelta(days=7))
    login(reception)
    row = parse(client.get("/practice/new-patients").text).find("li.card")
    assert "Overdue" in row.text()


def test_other_roles_cannot_see_the_queue(client: Client, login: Any, session: Session) -> None:
    login(factories.user(session, Role.pcw))
    assert client.get("/practice/new-patients").status_code == 403


# -- one request ------------------------------------------------------------------------------


def test_detail_shows_the_request_in_full_and_is_audited(
    client: Client, login: Any, session: Session, reception: User, riccarton: Practice
) -> None:
    pcw = factories.user(session, Role.pcw, name="Tala Worker")
    request = make_request(
        session,
        riccarton,
        "Amina Hassan",
        language="ar",
        source=RequestSource.pcw,
        created_by=pcw,
        note="Prefers mornings; needs an Arabic interpreter.",
        barriers=["language"],
    )
    login(reception)
    response = client.get(f"/practice/new-patients/{request.id}")
    assert response.status_code == 200
    doc = parse(response.text)
    facts = doc.find("dl").text()
    assert PHONE in facts  # in full: the practice calls the person
    assert "A community worker asked for them (Tala Worker)" in facts
    assert "Language or interpreter" in facts and "Needed" in facts
    language = doc.find("dl").find('bdi[lang="ar"]')
    assert language.attrs["dir"] == "rtl" and language.text() == "العربية"
    assert "Prefers mornings" in doc.text()
    assert doc.find('li[data-kind="sent"]')
    assert audit_actions(session, request.id)[-1] == "viewed"


def test_another_practice_gets_403_on_the_request_and_every_answer(
    client: Client,
    login: Any,
    session: Session,
    elsewhere: User,
    sina: EnrolmentRequest,
) -> None:
    login(elsewhere)
    base = f"/practice/new-patients/{sina.id}"
    assert client.get(base).status_code == 403
    posts = {
        "book": {"message": "Come Tuesday 10am"},
        "info": {"message": "Bring your passport"},
        "decline": {"reason": "full", "note": ""},
        "enrolled": {},
    }
    for action, data in posts.items():
        assert client.post(f"{base}/{action}", data=data).status_code == 403, action
    assert status_of(session, sina) == RequestStatus.sent
    assert texts(session) == []


def test_unknown_request_is_404(client: Client, login: Any, reception: User) -> None:
    login(reception)
    assert client.get("/practice/new-patients/999999").status_code == 404
    response = client.post("/practice/new-patients/999999/book", data={"message": "Hi"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("action", "data", "status", "purpose"),
    [
        ("book", {"message": "Come Tuesday 10am, bring your passport."}, "booked", "booked"),
        ("info", {"message": "Which address do you live at?"}, "info_needed", "info_needed"),
        ("decline", {"reason": "full", "note": "Books full till June"}, "declined", "declined"),
        ("enrolled", {}, "enrolled", "enrolled"),
    ],
)
def test_each_answer_texts_the_person_once_and_is_audited(
    client: Client,
    login: Any,
    session: Session,
    reception: User,
    hornby: Practice,
    sina: EnrolmentRequest,
    action: str,
    data: dict[str, str],
    status: str,
    purpose: str,
) -> None:
    login(reception)
    url = f"/practice/new-patients/{sina.id}/{action}"
    first = client.post(url, data=data)
    assert first.status_code == 303
    assert first.headers["location"] == f"/practice/new-patients/{sina.id}?done={action}"
    assert status_of(session, sina) == status
    sent = texts(session)
    assert [(t.to, t.purpose) for t in sent] == [(PHONE, f"enrolment-{purpose}")]
    if action in ("book", "info"):
        assert data["message"] in sent[0].body
    if action == "decline":
        assert "Hornby Health Hub" in sent[0].body  # another practice near them
    assert "changed" in audit_actions(session, sina.id)

    # A second press of the same answer texts nothing more.
    again = client.post(url, data=data)
    assert again.status_code == 303
    assert len(texts(session)) == 1

    shown = parse(client.get(first.headers["location"]).text)
    assert shown.find('p[role="status"]').text()  # the confirmation
    journey = shown.find(f'li[data-kind="{purpose}"]').text()
    assert "Texted to the person" in journey and sent[0].body.split()[0] in journey


def test_book_with_htmx_returns_the_updated_request(
    client: Client, login: Any, session: Session, reception: User, sina: EnrolmentRequest
) -> None:
    login(reception)
    response = client.post(
        f"/practice/new-patients/{sina.id}/book",
        data={"message": "Thursday 2pm please"},
        headers=HX,
    )
    assert response.status_code == 200
    fragment = parse(response.text)
    assert "<html" not in response.text
    assert fragment.find("article#request").attrs["data-status"] == "booked"
    assert "Booked" in fragment.find('p[role="status"]').text()
    # The nav's "waiting" badge is emptied along with it (an out-of-band swap).
    badge = fragment.find("span#nav-badge-practice-new-patients")
    assert badge.attrs["hx-swap-oob"] == "true" and badge.text() == ""


def test_empty_message_is_refused_with_the_form_shown_again(
    client: Client, login: Any, session: Session, reception: User, sina: EnrolmentRequest
) -> None:
    login(reception)
    response = client.post(f"/practice/new-patients/{sina.id}/book", data={"message": "   "})
    assert response.status_code == 422
    doc = parse(response.text)
    assert doc.find("p#book_message-error").text() == "Write the message for the person."
    assert doc.find("textarea#book-message").attrs.get("aria-invalid") == "true"
    assert status_of(session, sina) == RequestStatus.sent and texts(session) == []


# A practice's own words in full: what to bring, who to see, its actual question.
LONG_ENGLISH = (
    "Kia ora Sina, please come in on Thursday 26 November at 10:30am to see Dr Smith for your "
    "first visit. Bring photo ID, your Community Services Card, any medicines you take (in "
    "their boxes) and a power bill or letter with your address. Park at the back of the "
    "building and come to the front desk. If you cannot come, call us and we will find "
    "another time."
)
LONG_MAORI = (
    "Kia ora Sina, come in Thursday 10:30am to see Dr Smith. Please bring photo ID, your "
    "Community Services Card and any medicines you take. Park at the back and come to the "
    "front desk. Ngā mihi nui, ngā mihi"
)
LONG_SAMOAN = (
    "Talofa Sina, o ā ou fuafuaga mo le faʻaaogāina o le taavale? E mafai ona e taʻu mai pe o "
    "fea lou tuatusi i le taimi nei, ma pe e iai sau kata CSC? Faʻamolemole telefoni mai. "
    "Faʻafetai tele"
)


@pytest.mark.parametrize(
    ("action", "language", "message", "purpose"),
    [
        ("book", "en", LONG_ENGLISH, "booked"),
        ("book", "mi", LONG_MAORI, "booked"),
        ("info", "sm", LONG_SAMOAN, "info_needed"),
    ],
)
def test_a_long_message_reaches_the_person_whole(
    client: Client,
    login: Any,
    session: Session,
    reception: User,
    riccarton: Practice,
    action: str,
    language: str,
    message: str,
    purpose: str,
) -> None:
    request = make_request(session, riccarton, "Sina Tuilagi", language=language)
    login(reception)
    response = client.post(
        f"/practice/new-patients/{request.id}/{action}", data={"message": message}
    )
    assert response.status_code == 303
    [sent] = texts(session)
    assert sent.purpose == f"enrolment-{purpose}"
    assert message in sent.body and "…" not in sent.body  # every word, nothing cut
    assert "03 348 1000" in sent.body  # and the practice's phone after them
    assert 2 < segments.count(sent.body).segments <= notices.ANSWER_SEGMENTS
    journey = parse(client.get(response.headers["location"]).text)
    assert message in journey.find(f'li[data-kind="{purpose}"] blockquote').text()


@pytest.mark.parametrize(
    ("action", "field", "message"),
    [
        ("book", "book", LONG_MAORI + " " + LONG_MAORI),  # macrons: UCS-2, 70 a part
        ("info", "info", LONG_SAMOAN + " " + LONG_SAMOAN),
        ("book", "book", f"{LONG_ENGLISH} {LONG_ENGLISH}"),  # plain letters, over the 480
    ],
)
def test_a_message_too_long_for_a_text_is_refused_whole_and_nothing_is_sent(
    client: Client,
    login: Any,
    session: Session,
    reception: User,
    sina: EnrolmentRequest,
    action: str,
    field: str,
    message: str,
) -> None:
    login(reception)
    kind = "booked" if action == "book" else "info_needed"
    plain, other = req.message_room(session, sina, kind)
    room = plain if segments.is_gsm7(message) else other
    response = client.post(f"/practice/new-patients/{sina.id}/{action}", data={"message": message})
    assert response.status_code == 422
    doc = parse(response.text)
    typed = len(" ".join(message.split()))
    assert doc.find(f"p#{field}_message-error").text() == (
        f"Use at most {room} characters (you typed {typed})."
    )
    assert doc.find(f"textarea#{field}-message").text() == message  # all of it, to shorten
    assert status_of(session, sina) == RequestStatus.sent and texts(session) == []
    # The hint under the box said so before anything was typed.
    hint = doc.find(f"p#{field}-hint").text()
    assert f"Up to {plain} characters" in hint and f"({other} if it uses letters such as ā" in hint
    assert "a longer message is not sent until you shorten it" in hint


def test_the_hint_gives_the_exact_room(
    client: Client, login: Any, session: Session, reception: User, sina: EnrolmentRequest
) -> None:
    """As many characters as the hint says are sent whole; one more is refused."""
    login(reception)
    _plain, other = req.message_room(session, sina, "booked")
    url = f"/practice/new-patients/{sina.id}/book"
    over = client.post(url, data={"message": "ā" * (other + 1)})
    assert over.status_code == 422 and texts(session) == []
    assert client.post(url, data={"message": "ā" * other}).status_code == 303
    [sent] = texts(session)
    assert "ā" * other in sent.body


def test_decline_without_a_reason_is_422_and_keeps_the_note(
    client: Client, login: Any, session: Session, reception: User, sina: EnrolmentRequest
) -> None:
    login(reception)
    response = client.post(
        f"/practice/new-patients/{sina.id}/decline",
        data={"reason": "", "note": "Lives in Rangiora"},
    )
    assert response.status_code == 422
    doc = parse(response.text)
    assert doc.find("p#decline_reason-error").text() == "Choose a reason."
    assert doc.find("textarea#decline-note").text() == "Lives in Rangiora"
    assert status_of(session, sina) == RequestStatus.sent and texts(session) == []


def test_a_closed_request_answers_409_with_a_clear_message(
    client: Client, login: Any, session: Session, reception: User, sina: EnrolmentRequest
) -> None:
    login(reception)
    client.post(f"/practice/new-patients/{sina.id}/decline", data={"reason": "area"})
    response = client.post(f"/practice/new-patients/{sina.id}/book", data={"message": "Hi"})
    assert response.status_code == 409
    doc = parse(response.text)
    assert "This request is closed already." in doc.find('div[role="alert"]').text()
    assert not doc.find_all("textarea#book-message")  # no answers on a closed request
    assert status_of(session, sina) == RequestStatus.declined
    assert len(texts(session)) == 1


def test_the_pages_are_translated(
    client: Client, login: Any, session: Session, riccarton: Practice, sina: EnrolmentRequest
) -> None:
    staff = factories.user(session, practice_id=riccarton.id, locale="ar")
    login(staff)
    response = client.get(f"/practice/new-patients/{sina.id}")
    assert parse(response.text).dir == "rtl"
    assert "Accept and book" not in response.text and "Journey" not in response.text


# -- the listing ------------------------------------------------------------------------------


def test_staff_see_the_listing_but_cannot_change_it(
    client: Client, login: Any, session: Session, reception: User, riccarton: Practice
) -> None:
    login(reception)
    doc = parse(client.get("/practice/listing").text)
    assert doc.find("dd#accepting-now").text() == "Yes"
    assert not doc.find_all('form[action="/practice/listing"]')
    response = client.post("/practice/listing", data={"accepting": "no", "fee_notes": ""})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Practice, riccarton.id).accepting_new_patients is True  # type: ignore[union-attr]


def test_a_manager_changes_and_confirms_the_listing(
    client: Client,
    login: Any,
    session: Session,
    manager: User,
    riccarton: Practice,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    session.get(Practice, riccarton.id).accepting_confirmed_at = None  # type: ignore[union-attr]
    session.commit()
    time_machine.move_to(FIXED_NOW + timedelta(days=1))
    login(manager)
    response = client.post("/practice/listing", data={"accepting": "no", "fee_notes": "Adults $21"})
    assert response.status_code == 303
    session.expire_all()
    practice = session.get(Practice, riccarton.id)
    assert practice is not None
    assert practice.accepting_new_patients is False and practice.fee_notes == "Adults $21"
    assert practice.accepting_confirmed_at is not None
    assert practice.accepting_confirmed_by_id == manager.id
    doc = parse(client.get(response.headers["location"]).text)
    assert "Mona Manager" in doc.find("dd#confirmed").text()
    assert doc.find('p[role="status"]').text().startswith("Saved.")
    assert not doc.find_all("div#listing-warning")


def test_listing_needs_a_yes_or_no(
    client: Client, login: Any, manager: User, riccarton: Practice
) -> None:
    login(manager)
    response = client.post("/practice/listing", data={"accepting": "maybe", "fee_notes": "x"})
    assert response.status_code == 422
    assert "Say whether the practice is taking new patients." in response.text


def test_stale_listing_warns_on_the_listing_and_the_queue_for_managers(
    client: Client,
    login: Any,
    session: Session,
    manager: User,
    reception: User,
    riccarton: Practice,
) -> None:
    stale = session.get(Practice, riccarton.id)
    assert stale is not None
    stale.accepting_confirmed_at = FIXED_NOW - timedelta(days=31)
    session.commit()
    login(manager)
    warning = parse(client.get("/practice/listing").text).find("div#listing-warning")
    assert "not shown to patients by SMS until you confirm it" in warning.text()
    queue = parse(client.get("/practice/new-patients").text)
    assert "not shown to patients by SMS" in queue.find("div#listing-warning").text()

    # Confirming as current (the same values) clears it.
    response = client.post(
        "/practice/listing", data={"accepting": "yes", "fee_notes": "Adults $19.50"}
    )
    assert response.status_code == 303
    assert "listing-warning" not in client.get("/practice/listing").text

    # Other staff are not nagged on their queue.
    stale.accepting_confirmed_at = FIXED_NOW - timedelta(days=31)
    session.add(stale)
    session.commit()
    other = Client(client.app, follow_redirects=False)
    login(reception, other)
    assert "listing-warning" not in other.get("/practice/new-patients").text


def test_fresh_listing_has_no_warning(
    client: Client, login: Any, manager: User, riccarton: Practice
) -> None:
    login(manager)
    assert "listing-warning" not in client.get("/practice/listing").text
