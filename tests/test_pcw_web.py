"""The PCW inbox and task list through HTTP: permissions, htmx fragments, the whole flow."""

from __future__ import annotations

import datetime as dt
import html

import time_machine
from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.outbox.models import OutboxMessage
from assistant.pcw.models import Referral
from assistant.pcw.referrals import create_referral
from assistant.pcw.tasks import create_task
from assistant.people.models import Role
from assistant.sms import messages as msg
from assistant.sms.conversation import handle_inbound
from tests import factories
from tests.conftest import Client
from tests.html import parse
from tests.sms_texting import said

PHONE = "+64211234567"
HTMX = {"HX-Request": "true"}


def attr_values(markup: str, name: str) -> list[str]:
    return parse(markup).attribute_values(name)


def error_shown(markup: str, code: str) -> str:
    """The text around an outgoing SMS's error code (the code kept left to right)."""
    page = parse(markup)
    [code_span] = [s for s in page.find_all('span[dir="ltr"]') if s.text() == f"({code})"]
    assert code_span.parent is not None
    return code_span.parent.text()


def _referral(session: Session, **kw: object) -> Referral:
    fields: dict[str, object] = {
        "source": "sms",
        "phone": PHONE,
        "language": "to",
        "transcript": "> Mālō e lelei\n< Mālō e lelei! Ko e hā ha me'a te u lava 'o tokoni atu?",
        "barriers": ["transport"],
        "reason": "Wants help finding a GP",
    }
    referral = create_referral(session, **(fields | kw))  # type: ignore[arg-type]
    session.commit()
    return referral


def test_the_inbox_lists_urgent_referrals_first(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    calm = _referral(session)
    urgent = _referral(session, urgent=True, reason="Safety message")
    login(pcw)  # type: ignore[operator]
    response = client.get("/pcw/referrals")
    assert response.status_code == 200
    assert attr_values(response.text, "data-referral") == [str(urgent.id), str(calm.id)]
    assert "Lea faka-Tonga" in response.text
    fragment = client.get("/pcw/referrals?show=mine", headers=HTMX)
    assert "<html" not in fragment.text and parse(fragment.text).has("#referrals")
    assert attr_values(fragment.text, "data-referral") == []


def test_a_pcw_does_not_see_another_agencys_referral(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    other = _referral(session, agency_id=factories.agency(session).id)
    login(pcw)  # type: ignore[operator]
    assert client.get(f"/pcw/referrals/{other.id}").status_code == 404
    assert str(other.id) not in attr_values(client.get("/pcw/referrals").text, "data-referral")


def test_claim_note_text_and_outcome_without_javascript(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw, name="Tala PCW")
    referral = _referral(session)
    url = f"/pcw/referrals/{referral.id}"
    login(pcw)  # type: ignore[operator]

    page = client.get(url)
    assert page.status_code == 200
    assert "Mālō e lelei" in page.text and parse(page.text).has('[lang="to"]')
    assert "Transport" in page.text

    response = client.post(f"{url}/claim")
    assert (response.status_code, response.headers["location"]) == (303, url)
    response = client.post(f"{url}/notes", data={"body": "Rang, no answer."})
    assert response.status_code == 303
    response = client.post(f"{url}/sms", data={"body": "Mālō, ko Tala eni mei he PHO."})
    assert response.status_code == 303
    response = client.post(f"{url}/status", data={"status": "contacted"})
    assert response.status_code == 303

    page = client.get(url)
    assert "Rang, no answer." in page.text
    assert "Contacted" in page.text
    assert "Waiting to send" in page.text
    session.expire_all()
    message = session.exec(select(OutboxMessage)).one()
    assert (message.to, message.body, message.referral_id) == (
        PHONE,
        "Mālō, ko Tala eni mei he PHO.",
        referral.id,
    )
    actions = [e.action for e in events_for(session, "referral", referral.id)]
    assert actions.count("viewed") == 2
    assert {"claimed", "note-added", "sms-queued", "status-changed"} <= set(actions)


def test_htmx_actions_answer_with_the_referral_fragment(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    login(pcw)  # type: ignore[operator]
    response = client.post(f"/pcw/referrals/{referral.id}/claim", headers=HTMX)
    assert response.status_code == 200
    assert [(e.tag, e.id) for e in parse(response.text).top()][:1] == [("article", "referral")]
    assert "You have claimed this referral." in response.text


def test_texting_before_claiming_shows_why(client: Client, login: object, session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    login(pcw)  # type: ignore[operator]
    response = client.post(f"/pcw/referrals/{referral.id}/sms", data={"body": "Hi"})
    assert response.status_code == 409
    assert "Claim this referral before you act on it." in response.text
    htmx = client.post(f"/pcw/referrals/{referral.id}/sms", data={"body": "Hi"}, headers=HTMX)
    assert htmx.status_code == 200 and "Claim this referral" in htmx.text
    session.expire_all()
    assert session.exec(select(OutboxMessage)).first() is None


def test_actions_need_the_csrf_token(client: Client, login: object, session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    login(pcw)  # type: ignore[operator]
    response = client.post(
        f"/pcw/referrals/{referral.id}/claim", headers={"X-CSRF-Token": "forged"}
    )
    assert response.status_code == 403
    session.expire_all()
    stored = session.get(Referral, referral.id)
    assert stored is not None and stored.claimed_by_id is None


def test_the_task_list_and_marking_done(client: Client, login: object, session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    today = dt.date.today()
    overdue = create_task(
        session,
        assignee_id=pcw.id,
        agency_id=None,
        title="Book transport to the clinic",
        kind="transport",
        due=today - dt.timedelta(days=2),
    )
    session.commit()
    soon = create_task(
        session, assignee_id=pcw.id, agency_id=None, title="Ring back", kind="call-back", due=today
    )
    session.commit()
    login(pcw)  # type: ignore[operator]
    page = client.get("/pcw/tasks")
    assert attr_values(page.text, "data-task") == [str(overdue.id), str(soon.id)]
    assert "Overdue" in page.text

    fragment = client.post(f"/pcw/tasks/{overdue.id}/done", data={"done": "1"}, headers=HTMX)
    assert fragment.status_code == 200
    first = parse(fragment.text).top()[0]
    assert (first.tag, first.id, first.classes) == ("li", f"task-{overdue.id}", ["card"])
    assert "Not done yet" in fragment.text
    assert attr_values(client.get("/pcw/tasks").text, "data-task") == [str(soon.id)]
    done_page = client.get("/pcw/tasks?show=done")
    assert attr_values(done_page.text, "data-task") == [str(overdue.id)]

    response = client.post(f"/pcw/tasks/{overdue.id}/done", data={"done": "0"})
    assert (response.status_code, response.headers["location"]) == (303, "/pcw/tasks")
    assert len(attr_values(client.get("/pcw/tasks").text, "data-task")) == 2


def test_the_outgoing_sms_page_is_for_coordinators(
    client: Client, login: object, session: Session
) -> None:
    from assistant.outbox.queue import enqueue_sms

    enqueue_sms(session, to=PHONE, body="Reminder: your appointment is at 10am", purpose="reminder")
    session.commit()
    login(factories.user(session, Role.pcw))  # type: ignore[operator]
    assert client.get("/pcw/outbox").status_code == 403
    client.cookies.clear()
    login(factories.user(session, Role.coordinator))  # type: ignore[operator]
    page = client.get("/pcw/outbox")
    assert page.status_code == 200
    assert "+64******567" in page.text and PHONE not in page.text
    assert "Waiting to send" in page.text


def test_outgoing_sms_errors_are_named_beside_their_code(
    client: Client, login: object, session: Session
) -> None:
    from assistant.outbox.queue import enqueue_sms

    for code in ("21211", "http-503", "weird-1"):
        message = enqueue_sms(session, to=PHONE, body=f"Body {code}", purpose="reminder")
        session.commit()
        message.status = "failed"
        message.last_error_code = code
        session.add(message)
    session.commit()
    login(factories.user(session, Role.coordinator, locale="sm"))  # type: ignore[operator]
    page = client.get("/pcw/outbox").text
    assert "Not a valid mobile number" not in page  # shown in the user's language
    login(factories.user(session, Role.coordinator))  # type: ignore[operator]
    page = client.get("/pcw/outbox").text
    assert error_shown(page, "21211") == "Not a valid mobile number (21211)"
    assert error_shown(page, "http-503") == "The SMS service had a problem (http-503)"
    assert error_shown(page, "weird-1").endswith("(weird-1)")


def test_pages_in_another_language(client: Client, login: object, session: Session) -> None:
    pcw = factories.user(session, Role.pcw, locale="ar")
    _referral(session)
    login(pcw)  # type: ignore[operator]
    page = client.get("/pcw/referrals")
    assert parse(page.text).dir == "rtl"
    assert parse(page.text).find("h1").text() == "الإحالات"  # "Referrals"
    assert "لم يتولّها أحد بعد" in page.text  # "Not claimed yet"


def test_phone_numbers_read_left_to_right_on_arabic_pages(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw, locale="ar")
    referral = _referral(session)
    login(pcw)  # type: ignore[operator]
    listing = parse(client.get("/pcw/referrals").text)
    assert any(b.text().startswith("+64*") for b in listing.find_all('bdi[dir="ltr"]'))
    detail = parse(client.get(f"/pcw/referrals/{referral.id}").text)
    phone = detail.find(f'a[href="tel:{PHONE}"]')
    assert (phone.get("dir"), phone.text()) == ("ltr", PHONE)


def test_adding_a_follow_up_from_the_referral_page(
    client: Client, login: object, session: Session
) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    url = f"/pcw/referrals/{referral.id}"
    login(pcw)  # type: ignore[operator]
    client.post(f"{url}/claim")
    bad = client.post(f"{url}/tasks", data={"title": "Ring back", "due": ""})
    assert bad.status_code == 422 and "Choose a due date." in bad.text
    response = client.post(f"{url}/tasks", data={"title": "Ring back", "due": "2026-12-01"})
    assert response.status_code == 303
    page = client.get(url)
    assert "Ring back" in page.text and len(attr_values(page.text, "data-task")) == 1
    tasks_page = client.get("/pcw/tasks")
    assert "Ring back" in tasks_page.text


def test_demo_sms_referrals_show_their_reason_in_the_workers_language(
    client: Client, login: object, session: Session
) -> None:
    from assistant.demo import load_demo
    from assistant.people.models import User

    load_demo(session, password="demo-pass-2026")
    email = "pcw.tala@pacifictrust.example.nz"
    assert session.exec(select(User).where(User.email == email)).one().locale == "sm"
    signed_in = client.post("/login", data={"email": email, "password": "demo-pass-2026"})
    assert signed_in.status_code == 303
    page = html.unescape(client.get("/pcw/referrals").text)
    assert "Na talosaga ia toe vala'au atu." in page  # "Asked for a call back."
    assert "callback" not in page


def _claimed_and_texted(
    client: Client, login: object, session: Session, body: str
) -> tuple[Referral, str]:
    """A new worker signs in, claims a new referral and texts the person ``body``."""
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    url = f"/pcw/referrals/{referral.id}"
    login(pcw)  # type: ignore[operator]
    assert client.post(f"{url}/claim").status_code == 303
    assert client.post(f"{url}/sms", data={"body": body}).status_code == 303
    return referral, url


def test_a_persons_answer_to_a_workers_text_shows_on_the_referral(
    client: Client, login: object, session: Session
) -> None:
    """The person answers the worker's text; the worker sees the answer on the referral (and
    nothing the number texted before the referral was made)."""
    handle_inbound(session, phone=PHONE, body="hello before", message_sid="SM-before")
    session.commit()
    referral, url = _claimed_and_texted(client, login, session, "Are you safe tonight?")
    with time_machine.travel(referral.created_at + dt.timedelta(minutes=5), tick=False):
        handle_inbound(session, phone=PHONE, body="yes safe now, thank you", message_sid="SM-1")
        session.commit()
    page = parse(client.get(url).text)
    [answer] = page.find_all("li[data-inbound]")
    assert "yes safe now, thank you" in answer.text()
    assert "hello before" not in client.get(url).text


def test_an_answer_to_a_workers_text_puts_a_task_in_their_list(
    client: Client, login: object, session: Session
) -> None:
    """The worker who texted finds the person's answer in their task list, with the referral a
    click away; the person was told once that it reached the worker."""
    referral, url = _claimed_and_texted(client, login, session, "Can I call you at 2?")
    with time_machine.travel(referral.created_at + dt.timedelta(minutes=5), tick=False):
        first = handle_inbound(session, phone=PHONE, body="yes 2 is good", message_sid="SM-1")
        again = handle_inbound(session, phone=PHONE, body="at home", message_sid="SM-2")
        session.commit()
    assert first == said(referral.language, msg.passed_to_worker) and again == ""
    page = parse(client.get("/pcw/tasks").text)
    [task] = page.find_all("li[data-task]")
    assert "texted back" in task.text()
    assert task.find_all(f'a[href="{url}"]')
    answers = [li.text() for li in parse(client.get(url).text).find_all("li[data-inbound]")]
    assert len(answers) == 2 and "yes 2 is good" in answers[0]
