"""The email outbox against a real SMTP server on 127.0.0.1: sent once, retried with back-off
when the server refuses or is not there, never sent twice when the outcome is unknown."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.i18n import translations
from assistant.notify.models import EmailKind, EmailStatus, QueuedEmail
from assistant.notify.preferences import set_preferences
from assistant.notify.queue import Outgoing, enqueue_email, enqueue_emails
from assistant.notify.worker import EmailStats, EmailWorker, email_worker_for
from assistant.outbox.worker import worker_for
from assistant.people.models import Role, User
from assistant.settings import Settings
from tests import factories
from tests.fake_smtp import FakeSmtp, free_port, running
from tests.mail import smtp_settings


def worker(settings: Settings, port: int) -> EmailWorker:
    w = email_worker_for(smtp_settings(settings, port))
    w.rng = random.Random(7)
    return w


@pytest.fixture
def smtp() -> Any:
    with running() as server:
        yield server


@pytest.fixture
def liaison(session: Session) -> User:
    return factories.user(session, Role.liaison, name="Mere")


def queue_reply_email(session: Session, user: User, **kw: Any) -> QueuedEmail:
    assert user.id is not None
    email = enqueue_email(
        session,
        to=user.email,
        user_id=user.id,
        kind=kw.pop("kind", EmailKind.ticket_new),
        dedupe_key=kw.pop("dedupe_key", f"test:{user.id}"),
        params=kw.pop("params", {"path": "/inbox/tickets/7", "practice": "Riccarton Clinic"}),
        **kw,
    )
    session.commit()
    return email


def row(session: Session, email_id: int | None) -> QueuedEmail:
    session.expire_all()
    found = session.get(QueuedEmail, email_id)
    assert found is not None
    return found


def test_an_email_is_sent_once_with_its_link_and_marked_sent(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    email = queue_reply_email(session, liaison)
    w = worker(settings, smtp.port)
    stats = w.run_once()
    assert (stats.claimed, stats.sent) == (1, 1)
    assert len(smtp.received) == 1
    got = smtp.received[0]
    assert got.rcpt_tos == [liaison.email]
    assert got.mail_from == "assistant@pho.example.nz"
    assert got.message["Subject"] == "New question from Riccarton Clinic"
    assert got.message["Message-ID"] == email.message_id
    assert "Kia ora, Mere" in got.body
    assert "http://testserver/inbox/tickets/7" in got.body
    assert "http://testserver/account/notifications" in got.body
    saved = row(session, email.id)
    assert saved.status == EmailStatus.sent
    assert saved.sent_at is not None and saved.attempts == 1
    assert saved.subject == "New question from Riccarton Clinic"
    # Later passes find nothing to do.
    assert w.run_once(utcnow() + timedelta(hours=3)).claimed == 0
    assert len(smtp.received) == 1


def test_the_email_names_the_practice_as_it_is_called_when_the_email_is_written(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    practice = factories.practice(session, name="Riccarton Clinic")
    queue_reply_email(
        session, liaison, params={"path": "/inbox/tickets/7", "practice_id": practice.id}
    )
    practice.name = "Riccarton Family Health"  # renamed before the worker ran
    session.add(practice)
    session.commit()
    assert worker(settings, smtp.port).run_once().sent == 1
    assert smtp.received[0].message["Subject"] == "New question from Riccarton Family Health"
    assert "A new question from Riccarton Family Health is waiting" in smtp.received[0].body


@pytest.mark.parametrize(
    ("stage", "answer"),
    [
        ("refuse_data", "451 4.3.0 Try again later"),
        ("refuse_mail", "554 5.3.0 Not now"),
        ("refuse_rcpt", "450 4.2.1 Mailbox busy"),
    ],
)
def test_a_refusal_then_acceptance_sends_exactly_once(
    session: Session,
    settings: Settings,
    smtp: FakeSmtp,
    liaison: User,
    stage: str,
    answer: str,
) -> None:
    getattr(smtp.handler, stage).append(answer)
    email = queue_reply_email(session, liaison)
    w = worker(settings, smtp.port)
    now = utcnow()
    stats = w.run_once(now)
    assert (stats.sent, stats.retried) == (0, 1)
    assert smtp.received == []
    waiting = row(session, email.id)
    assert waiting.status == EmailStatus.queued
    assert waiting.last_error_code == answer[:3]
    assert waiting.next_attempt_at > now
    # Not due yet: nothing happens.
    assert w.run_once(now).claimed == 0
    later = now + timedelta(minutes=2)
    assert w.run_once(later).sent == 1
    assert w.run_once(later + timedelta(hours=2)).claimed == 0
    assert len(smtp.received) == 1
    done = row(session, email.id)
    assert (done.status, done.attempts, done.last_error_code) == (EmailStatus.sent, 2, None)


def test_a_server_that_is_not_listening_then_comes_up_gets_the_email_once(
    session: Session, settings: Settings, liaison: User
) -> None:
    port = free_port()
    email = queue_reply_email(session, liaison)
    w = worker(settings, port)
    now = utcnow()
    stats = w.run_once(now)
    assert stats.retried == 1
    assert row(session, email.id).last_error_code == "network"
    with running(port) as server:
        assert w.run_once(now + timedelta(minutes=2)).sent == 1
        assert w.drain(now + timedelta(days=1)).sent == 0
        assert len(server.received) == 1
    assert row(session, email.id).status == EmailStatus.sent


def test_back_off_grows_and_gives_up_after_the_last_try(
    session: Session, settings: Settings, liaison: User
) -> None:
    email = queue_reply_email(session, liaison)
    w = worker(settings, free_port())
    now = utcnow()
    gaps = []
    for _ in range(w.backoff.max_attempts):
        w.run_once(now)
        current = row(session, email.id)
        if current.status != EmailStatus.queued:
            break
        gaps.append(current.next_attempt_at - now)
        now = current.next_attempt_at
    assert gaps == sorted(gaps) and len(gaps) == w.backoff.max_attempts - 1
    final = row(session, email.id)
    assert final.status == EmailStatus.failed
    assert final.attempts == w.backoff.max_attempts


def test_a_refused_recipient_is_failed_at_once(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    smtp.handler.refuse_rcpt.append("550 5.1.1 No such user")
    email = queue_reply_email(session, liaison)
    stats = worker(settings, smtp.port).run_once()
    assert stats.failed == 1
    failed = row(session, email.id)
    assert (failed.status, failed.last_error_code) == (EmailStatus.failed, "550")


def test_a_lost_answer_after_the_message_is_flagged_and_never_sent_again(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    smtp.handler.drop_after_data = 1
    email = queue_reply_email(session, liaison)
    w = worker(settings, smtp.port)
    now = utcnow()
    assert w.run_once(now).review == 1
    flagged = row(session, email.id)
    assert flagged.needs_review and flagged.status == EmailStatus.sending
    assert flagged.handed_over_at is not None
    # Past the lease, and much later: still not sent again.
    w.drain(now + timedelta(hours=6))
    assert len(smtp.received) == 1
    assert row(session, email.id).needs_review


def _claim_and_die(w: EmailWorker, now: Any, *, handed_over: bool) -> None:
    claimed = w.claim(now)
    assert len(claimed) == 1
    if handed_over:
        assert w._hand_over(claimed[0])


@pytest.mark.parametrize("handed_over", [False, True])
def test_a_worker_that_died_mid_send(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User, handed_over: bool
) -> None:
    email = queue_reply_email(session, liaison)
    w = worker(settings, smtp.port)
    now = utcnow()
    _claim_and_die(w, now, handed_over=handed_over)
    # Within the lease another pass leaves the claim alone.
    assert w.run_once(now + timedelta(minutes=1)).claimed == 0
    w.drain(now + timedelta(minutes=10))
    current = row(session, email.id)
    if handed_over:
        # It may have gone out: a person decides, the worker never sends it again.
        assert current.needs_review and smtp.received == []
    else:
        assert current.status == EmailStatus.sent and len(smtp.received) == 1


def test_two_workers_never_both_send_one_email(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    queue_reply_email(session, liaison)
    first, second = worker(settings, smtp.port), worker(settings, smtp.port)
    now = utcnow()
    claimed = first.claim(now)
    assert second.run_once(now).claimed == 0
    first.deliver(claimed[0], now, EmailStats())
    assert second.run_once(now + timedelta(minutes=1)).claimed == 0
    assert len(smtp.received) == 1


def test_without_an_smtp_host_emails_are_settled_as_not_sent(
    session: Session, settings: Settings, liaison: User
) -> None:
    assert not settings.email_enabled
    email = queue_reply_email(session, liaison)
    stats = email_worker_for(settings).run_once()
    assert stats.cancelled == 1
    off = row(session, email.id)
    assert (off.status, off.last_error_code) == (EmailStatus.cancelled, "email-off")


def test_the_outbox_worker_pass_also_sends_email(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    queue_reply_email(session, liaison)
    stats = worker_for(smtp_settings(settings, smtp.port)).drain()
    assert stats.sent == 1
    assert len(smtp.received) == 1


def test_an_email_turned_off_after_it_was_queued_is_not_sent(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    email = queue_reply_email(session, liaison)
    assert liaison.id is not None
    set_preferences(
        session, user_id=liaison.id, role=liaison.role, enabled={EmailKind.ticket_new: False}
    )
    session.commit()
    assert worker(settings, smtp.port).run_once().cancelled == 1
    assert row(session, email.id).last_error_code == "turned-off"
    assert smtp.received == []


def test_a_reset_link_past_its_time_is_not_sent_and_its_link_is_wiped(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    email = queue_reply_email(
        session,
        liaison,
        kind=EmailKind.password_reset,
        params={"path": "/password/reset/secret-token", "minutes": 30},
        sensitive=True,
        expires_at=utcnow() + timedelta(minutes=30),
    )
    worker(settings, smtp.port).run_once(utcnow() + timedelta(minutes=31))
    expired = row(session, email.id)
    assert (expired.status, expired.last_error_code) == (EmailStatus.cancelled, "expired")
    assert "secret-token" not in expired.params
    assert smtp.received == []


def test_an_inactive_person_gets_no_email(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    email = queue_reply_email(session, liaison)
    liaison.active = False
    session.add(liaison)
    session.commit()
    worker(settings, smtp.port).run_once()
    assert row(session, email.id).last_error_code == "inactive"
    assert smtp.received == []


@pytest.mark.parametrize("lang", ["zh_Hans", "ar", "sm"])
def test_the_email_is_written_in_the_recipients_language(
    session: Session, settings: Settings, smtp: FakeSmtp, lang: str
) -> None:
    person = factories.user(session, Role.practice_staff, name="Lin", locale=lang)
    queue_reply_email(
        session,
        person,
        kind=EmailKind.ticket_reply,
        params={"path": "/chat/questions/3", "practice": "Riccarton Clinic"},
    )
    worker(settings, smtp.port).run_once()
    catalog = translations(lang)
    got = smtp.received[0]
    assert got.message["Subject"] == catalog.gettext("The PHO has replied to your question")
    assert catalog.gettext("Kia ora, %(name)s") % {"name": "Lin"} in got.body
    assert catalog.gettext("PHO assistant") in got.body
    assert "http://testserver/chat/questions/3" in got.body


def test_one_email_per_event_and_person(session: Session, liaison: User) -> None:
    first = queue_reply_email(session, liaison, dedupe_key="ticket_new:ticket1:5")
    again = queue_reply_email(session, liaison, dedupe_key="ticket_new:ticket1:5")
    assert first.id == again.id
    assert len(session.exec(select(QueuedEmail)).all()) == 1


def test_an_email_that_cannot_be_written_fails_once_instead_of_looping(
    session: Session, settings: Settings, smtp: FakeSmtp, liaison: User
) -> None:
    email = queue_reply_email(
        session, liaison, kind=EmailKind.password_reset, params={"minutes": "soon"}
    )
    w = worker(settings, smtp.port)
    assert w.run_once().failed == 1
    assert w.drain(utcnow() + timedelta(hours=1)).claimed == 0
    broken = row(session, email.id)
    assert (broken.status, broken.last_error_code) == (EmailStatus.failed, "compose")
    assert smtp.received == []


def test_many_emails_queued_at_once_are_each_queued_once(session: Session) -> None:
    """A referral tells every community worker: many recipients, queued at once, in order,
    each once, and counted."""
    count = 120
    outgoing = [
        Outgoing(to=f"pcw{n}@agency.example.nz", kind=EmailKind.ticket_new, dedupe_key=f"k:{n}")
        for n in range(count)
    ]
    assert enqueue_emails(session, outgoing) == count
    session.commit()
    assert enqueue_emails(session, outgoing[::-1]) == 0
    queued = session.exec(select(QueuedEmail).order_by(QueuedEmail.id)).all()
    assert [e.to for e in queued] == [o.to for o in outgoing]


def test_emails_queued_together_are_each_queued_once_and_sent(
    session: Session, settings: Settings, smtp: FakeSmtp
) -> None:
    """A new request to a practice of many staff: one email each, however often it is queued."""
    staff = [factories.user(session, Role.practice_staff, name=f"Staff {n}") for n in range(3)]
    outgoing = [
        Outgoing(to=u.email, user_id=u.id, kind=EmailKind.enrolment_new, dedupe_key=f"new:{u.id}")
        for u in staff
    ]
    assert enqueue_emails(session, outgoing + outgoing[:1]) == 3  # a repeat in the same batch
    session.commit()
    assert enqueue_emails(session, outgoing) == 0  # and the whole batch again
    session.commit()
    queued = session.exec(select(QueuedEmail).order_by(QueuedEmail.id)).all()
    assert [e.to for e in queued] == [u.email for u in staff]
    assert all(e.status == EmailStatus.queued for e in queued)
    stats = worker(settings, smtp.port).run_once()
    assert stats.sent == 3
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(u.email for u in staff)
