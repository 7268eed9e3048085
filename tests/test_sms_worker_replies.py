"""A person texting back after a community worker texted them: their texts go to the worker
(a task in the worker's list, the texts on the referral), not to the guide's menu, until they
ask for the menu; an emergency still gets 111 or 1737 first."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from assistant.pcw import inbox
from assistant.pcw.labels import task_title
from assistant.pcw.models import FollowUpTask, Referral
from assistant.pcw.referrals import create_referral
from assistant.pcw.tasks import list_tasks
from assistant.people.models import Role, User
from assistant.sms import messages as msg
from tests import factories
from tests.clock import FIXED_NOW
from tests.sms_texting import Texter, said

PHONE = "+64211234567"


def _texted_by_a_worker(
    session: Session, *, language: str = "sm", texted_before: bool = True
) -> tuple[Texter, Referral, User]:
    """A person who asked for a call back (or, ``texted_before`` False, was referred by a
    form) and the worker who claimed it and texted them."""
    phone = Texter(session, PHONE, FIXED_NOW - timedelta(hours=2))
    if texted_before:
        phone("Talofa")
        phone("5")  # call me back
        session.commit()
        (referral,) = phone.referrals()
    else:
        referral = create_referral(
            session,
            source="assessment",
            phone=PHONE,
            language=language,
            transcript="",
            barriers=["transport"],
            reason="Barrier assessment",
            contact_name="Sefo",
        )
        session.commit()
    worker = factories.user(session, Role.pcw, name="Tala")
    assert referral.id is not None
    inbox.claim_referral(session, user=worker, referral_id=referral.id)
    inbox.send_sms(
        session, user=worker, referral_id=referral.id, body="Talofa, o Tala lenei. Thursday 2pm?"
    )
    session.commit()
    phone.now = FIXED_NOW
    return phone, referral, worker


def _reply_tasks(session: Session, referral: Referral) -> list[FollowUpTask]:
    session.expire_all()
    return list(
        session.exec(
            select(FollowUpTask)
            .where(FollowUpTask.referral_id == referral.id, FollowUpTask.kind == "sms-reply")
            .order_by(col(FollowUpTask.id))
        )
    )


def test_a_reply_goes_to_the_worker_not_to_the_menu(session: Session) -> None:
    phone, referral, worker = _texted_by_a_worker(session)
    # "Riccarton" is a place and "yes" a menu answer: to the worker, it is neither
    assert phone("Ioe, Thursday lelei. I'm at Riccarton now") == said("sm", msg.passed_to_worker)
    session.commit()
    (task,) = _reply_tasks(session, referral)
    assert (task.assignee_id, task.done) == (worker.id, False)
    assert task in list_tasks(session, user=worker)
    assert "texted back" in task_title(task)
    # More texts: no more automatic replies, still one task to answer them
    assert phone("2pm ok") == ""
    assert phone("thank you") == ""
    session.commit()
    assert len(_reply_tasks(session, referral)) == 1
    assert len(phone.referrals()) == 1  # no call-back referral made of "Riccarton" or "yes"


def test_menu_hands_the_person_back_to_the_guide(session: Session) -> None:
    phone, _referral, _worker = _texted_by_a_worker(session)
    phone("ok")
    assert phone("0") == said("sm", msg.menu_again)
    assert phone("2") == said("sm", msg.ask_where)


def test_an_emergency_in_a_reply_still_gets_111_or_1737(session: Session) -> None:
    phone, _referral, _worker = _texted_by_a_worker(session, language="en")
    reply = phone("I can't go on, I want to kill myself")
    assert "1737" in reply
    urgent = [r for r in phone.referrals() if r.urgent]
    assert len(urgent) == 1


def test_stop_in_a_reply_stops_the_texts(session: Session) -> None:
    phone, _referral, _worker = _texted_by_a_worker(session)
    assert phone("STOP") == said("sm", msg.opted_out)
    assert phone.contact.opted_out


def test_a_number_that_never_texted_hears_back_in_its_referrals_language(
    session: Session,
) -> None:
    phone, referral, worker = _texted_by_a_worker(session, language="to", texted_before=False)
    assert phone("Malo, sai pe Tusite") == said("to", msg.passed_to_worker)
    session.commit()
    (task,) = _reply_tasks(session, referral)
    assert task.assignee_id == worker.id and "Sefo" in task_title(task)


def test_after_a_quiet_day_the_person_hears_again_that_it_reached_the_worker(
    session: Session,
) -> None:
    phone, referral, _worker = _texted_by_a_worker(session)
    assert phone("ioe") == said("sm", msg.passed_to_worker)
    phone.now = FIXED_NOW + timedelta(days=3)
    assert phone("Talofa, e lei vala'au mai se tasi") == said("sm", msg.passed_to_worker)


def test_a_week_after_the_workers_text_a_quiet_person_is_back_with_the_guide(
    session: Session,
) -> None:
    phone, referral, _worker = _texted_by_a_worker(session)
    phone.now = FIXED_NOW + timedelta(days=8)
    assert phone("Talofa") == said("sm", msg.fresh_start)
    assert _reply_tasks(session, referral) == []


def test_a_done_reply_task_comes_back_with_the_next_text(session: Session) -> None:
    phone, referral, worker = _texted_by_a_worker(session)
    phone("ioe")
    session.commit()
    (task,) = _reply_tasks(session, referral)
    assert task.id is not None
    task.done = True
    session.add(task)
    session.commit()
    phone("ma le 3pm?")
    session.commit()
    assert [t.done for t in _reply_tasks(session, referral)] == [True, False]


def test_a_worker_who_left_leaves_the_task_to_their_agency(session: Session) -> None:
    phone, referral, worker = _texted_by_a_worker(session)
    worker.active = False
    session.add(worker)
    session.commit()
    phone("ioe")
    session.commit()
    (task,) = _reply_tasks(session, referral)
    assert (task.assignee_id, task.agency_id) == (None, referral.agency_id)


def test_a_second_worker_text_gets_its_own_acknowledgement(session: Session) -> None:
    phone, referral, worker = _texted_by_a_worker(session)
    phone("ioe")
    phone("faafetai")
    assert referral.id is not None
    inbox.send_sms(session, user=worker, referral_id=referral.id, body="Can you do Friday instead?")
    session.commit()
    assert phone("ioe Friday") == said("sm", msg.passed_to_worker)


def test_texting_the_person_again_ticks_off_the_reply_task(session: Session) -> None:
    phone, referral, worker = _texted_by_a_worker(session)
    phone("ioe, Thursday")
    session.commit()
    assert referral.id is not None
    inbox.send_sms(session, user=worker, referral_id=referral.id, body="See you Thursday.")
    session.commit()
    (task,) = _reply_tasks(session, referral)
    assert (task.done, task.done_by_id) == (True, worker.id)


def test_a_picture_without_words_goes_to_the_worker_too(session: Session) -> None:
    phone, referral, _worker = _texted_by_a_worker(session)
    assert phone("") == said("sm", msg.passed_to_worker)
    session.commit()
    assert len(_reply_tasks(session, referral)) == 1
