"""PCW referrals and follow-up tasks: domain functions without HTTP."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from assistant.audit import events_for
from assistant.contacts.optout import mark_opted_out
from assistant.errors import Conflict, Invalid, NotFound
from assistant.outbox.models import OutboxMessage
from assistant.pcw import inbox
from assistant.pcw.models import Referral
from assistant.pcw.referrals import create_referral
from assistant.pcw.tasks import create_task, list_tasks, set_task_done
from assistant.people.models import Role, User
from tests import factories

PHONE = "+64211234567"


def _referral(session: Session, **kw: object) -> Referral:
    fields: dict[str, object] = {
        "source": "sms",
        "phone": PHONE,
        "language": "sm",
        "transcript": "> Talofa\n< Talofa! ...",
        "barriers": ["cost", "transport", "cost"],
        "reason": "Asked for a call back",
    }
    referral = create_referral(session, **(fields | kw))  # type: ignore[arg-type]
    session.commit()
    return referral


def test_create_referral_stores_what_the_inbox_shows(session: Session) -> None:
    referral = _referral(session, urgent=True, contact_name="Sina")
    assert referral.id is not None
    stored = session.get(Referral, referral.id)
    assert stored is not None
    assert (stored.status, stored.urgent, stored.language) == ("open", True, "sm")
    assert stored.barriers == ["cost", "transport"]
    assert stored.agency_id is None  # the shared team queue


def test_create_referral_refuses_an_unknown_source(session: Session) -> None:
    with pytest.raises(ValueError):
        _referral(session, source="carrier-pigeon")


def test_urgent_referrals_come_first_then_the_longest_waiting(session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    first = _referral(session, reason="first")
    second = _referral(session, reason="second")
    urgent = _referral(session, reason="urgent", urgent=True)
    ids = [r.id for r in inbox.list_referrals(session, user=pcw)]
    assert ids == [urgent.id, first.id, second.id]


def test_pcws_see_the_shared_queue_and_their_own_agency_only(session: Session) -> None:
    mine, theirs = factories.agency(session), factories.agency(session)
    pcw = factories.user(session, Role.pcw, agency_id=mine.id)
    coordinator = factories.user(session, Role.coordinator)
    shared = _referral(session, reason="shared")
    own = _referral(session, reason="own", agency_id=mine.id)
    other = _referral(session, reason="other", agency_id=theirs.id)

    assert {r.id for r in inbox.list_referrals(session, user=pcw)} == {shared.id, own.id}
    assert {r.id for r in inbox.list_referrals(session, user=coordinator)} == {
        shared.id,
        own.id,
        other.id,
    }
    assert other.id is not None
    with pytest.raises(NotFound):
        inbox.get_referral(session, user=pcw, referral_id=other.id)


def test_viewing_a_referral_is_audited(session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    assert referral.id is not None
    inbox.get_referral(session, user=pcw, referral_id=referral.id)
    events = events_for(session, "referral", referral.id)
    assert [(e.actor_id, e.action) for e in events] == [(pcw.id, "viewed")]


def test_claim_then_act_and_everything_is_audited(session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    rid = referral.id
    assert rid is not None
    inbox.claim_referral(session, user=pcw, referral_id=rid)
    inbox.add_note(session, user=pcw, referral_id=rid, body="Left a voicemail.")
    message = inbox.send_sms(session, user=pcw, referral_id=rid, body="Talofa, o Tala lenei.")
    inbox.set_status(session, user=pcw, referral_id=rid, status="contacted")

    session.expire_all()
    stored = session.get(Referral, rid)
    assert stored is not None
    assert (stored.claimed_by_id, stored.status) == (pcw.id, "contacted")
    assert (message.to, message.status, message.referral_id) == (PHONE, "queued", rid)
    kinds = [n.kind for n in inbox.notes_for(session, referral_id=rid)]
    assert kinds == ["claim", "note", "sms", "status"]
    actions = [e.action for e in events_for(session, "referral", rid)]
    assert actions == ["claimed", "note-added", "sms-queued", "status-changed"]
    assert "Talofa" not in "".join(e.detail for e in events_for(session, "referral", rid))


def test_acting_needs_the_claim(session: Session) -> None:
    tala, amina = factories.user(session, Role.pcw), factories.user(session, Role.pcw)
    referral = _referral(session)
    rid = referral.id
    assert rid is not None
    with pytest.raises(inbox.NotClaimed):
        inbox.send_sms(session, user=tala, referral_id=rid, body="Hello")
    inbox.claim_referral(session, user=amina, referral_id=rid)
    with pytest.raises(inbox.ClaimedByOther, match=amina.name):
        inbox.claim_referral(session, user=tala, referral_id=rid)
    with pytest.raises(Conflict):
        inbox.set_status(session, user=tala, referral_id=rid, status="enrolled")
    # Anyone who can see it may still add a note.
    inbox.add_note(session, user=tala, referral_id=rid, body="Knows the family.")
    assert session.exec(select(OutboxMessage)).first() is None


def test_two_pcws_claiming_at_once_one_wins(engine: Engine, session: Session) -> None:
    users = [factories.user(session, Role.pcw) for _ in range(2)]
    referral = _referral(session)
    rid = referral.id
    assert rid is not None
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def claim(user: User) -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                inbox.claim_referral(s, user=user, referral_id=rid)
                s.commit()  # each claimant is its own entry point
                outcomes.append("won")
            except inbox.ClaimedByOther:
                outcomes.append("lost")

    threads = [threading.Thread(target=claim, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["lost", "won"]


def test_coordinators_can_act_without_claiming(session: Session) -> None:
    coordinator = factories.user(session, Role.coordinator)
    referral = _referral(session)
    assert referral.id is not None
    inbox.set_status(session, user=coordinator, referral_id=referral.id, status="unreachable")
    session.expire_all()
    stored = session.get(Referral, referral.id)
    assert stored is not None and stored.closed_at is not None
    assert [r.id for r in inbox.list_referrals(session, user=coordinator, show="closed")] == [
        referral.id
    ]
    assert inbox.list_referrals(session, user=coordinator, show="open") == []


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write the message first."), ("x" * 481, "Keep the message under 480 characters.")],
)
def test_sms_text_is_checked(session: Session, body: str, message: str) -> None:
    pcw = factories.user(session, Role.pcw)
    referral = _referral(session)
    assert referral.id is not None
    inbox.claim_referral(session, user=pcw, referral_id=referral.id)
    with pytest.raises(Invalid) as caught:
        inbox.send_sms(session, user=pcw, referral_id=referral.id, body=body)
    assert caught.value.message == message


def test_no_text_to_someone_who_opted_out_or_has_no_number(session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    opted = _referral(session)
    no_phone = _referral(session, phone=None, source="practice")
    mark_opted_out(session, phone=PHONE)
    session.commit()
    for referral, text in [
        (opted, "This person has asked for no more texts (STOP)."),
        (no_phone, "This referral has no mobile number."),
    ]:
        assert referral.id is not None
        inbox.claim_referral(session, user=pcw, referral_id=referral.id)
        with pytest.raises(Invalid) as caught:
            inbox.send_sms(session, user=pcw, referral_id=referral.id, body="Hello")
        assert caught.value.message == text
    assert session.exec(select(OutboxMessage)).all() == []


def test_an_unknown_outcome_is_refused(session: Session) -> None:
    coordinator = factories.user(session, Role.coordinator)
    referral = _referral(session)
    assert referral.id is not None
    with pytest.raises(Invalid):
        inbox.set_status(session, user=coordinator, referral_id=referral.id, status="lost")


def test_tasks_a_pcw_sees(session: Session) -> None:
    mine, theirs = factories.agency(session), factories.agency(session)
    pcw = factories.user(session, Role.pcw, agency_id=mine.id)
    colleague = factories.user(session, Role.pcw, agency_id=mine.id)
    today = dt.date(2026, 11, 22)

    def task(title: str, **kw: object) -> int:
        fields: dict[str, object] = {
            "assignee_id": None,
            "agency_id": None,
            "title": title,
            "kind": "follow-up",
        }
        made = create_task(session, **(fields | kw), due=today)  # type: ignore[arg-type]
        session.commit()
        assert made.id is not None
        return made.id

    own = task("Own", assignee_id=pcw.id)
    task("Colleague's", assignee_id=colleague.id, agency_id=mine.id)
    agency_pool = task("Agency pool", agency_id=mine.id)
    team_pool = task("Team pool")
    task("Other agency", agency_id=theirs.id)
    later = create_task(
        session,
        assignee_id=pcw.id,
        agency_id=None,
        title="Later",
        kind="transport",
        due=today + dt.timedelta(days=7),
        source_ref="form:abc",
    )
    session.commit()

    seen = [t.id for t in list_tasks(session, user=pcw)]
    assert sorted(seen[:3]) == sorted([own, agency_pool, team_pool])
    assert seen[3:] == [later.id]
    done = set_task_done(session, user=pcw, task_id=own)
    assert done.done and done.done_by_id == pcw.id and done.done_at is not None
    assert [t.id for t in list_tasks(session, user=pcw, done=True)] == [own]
    assert own not in [t.id for t in list_tasks(session, user=pcw)]
    coordinator = factories.user(session, Role.coordinator)
    assert len(list_tasks(session, user=coordinator)) == 5
    with pytest.raises(NotFound):
        set_task_done(session, user=colleague, task_id=own)
    assert [e.action for e in events_for(session, "follow_up_task", own)] == ["done"]


def test_a_follow_up_from_a_referral_lands_in_the_holders_task_list(session: Session) -> None:
    pcw = factories.user(session, Role.pcw)
    coordinator = factories.user(session, Role.coordinator)
    referral = _referral(session)
    rid = referral.id
    assert rid is not None
    with pytest.raises(inbox.NotClaimed):
        inbox.add_follow_up(session, user=pcw, referral_id=rid, title="Ring", due="2026-12-01")
    inbox.claim_referral(session, user=pcw, referral_id=rid)
    for title, due, text in [
        ("", "2026-12-01", "Say what needs doing."),
        ("Ring", "", "Choose a due date."),
        ("Ring", "1 December", "Choose a due date."),
    ]:
        with pytest.raises(Invalid) as caught:
            inbox.add_follow_up(session, user=pcw, referral_id=rid, title=title, due=due)
        assert caught.value.message == text
    mine = inbox.add_follow_up(
        session, user=pcw, referral_id=rid, title="Ring about the GP visit", due="2026-12-01"
    )
    theirs = inbox.add_follow_up(
        session, user=coordinator, referral_id=rid, title="Check on it", due=dt.date(2026, 12, 3)
    )
    assert (mine.assignee_id, mine.due, mine.source_ref) == (
        pcw.id,
        dt.date(2026, 12, 1),
        f"referral:{rid}",
    )
    assert theirs.assignee_id == pcw.id  # the holder's list, not the coordinator's
    assert [t.id for t in list_tasks(session, user=pcw)] == [mine.id, theirs.id]
    assert [t.id for t in inbox.tasks_for(session, referral_id=rid)] == [mine.id, theirs.id]


def test_an_urgent_referral_puts_a_task_due_today_in_every_pcws_list(session: Session) -> None:
    from assistant.clock import to_local, utcnow
    from assistant.i18n import use_locale
    from assistant.pcw.labels import task_title

    pcw = factories.user(session, Role.pcw)
    calm = _referral(session)
    urgent = _referral(session, urgent=True, reason="safety")
    tasks = list_tasks(session, user=pcw)
    assert [(t.referral_id, t.kind, t.due) for t in tasks] == [
        (urgent.id, "urgent", to_local(utcnow()).date())
    ]
    assert calm.id not in [t.referral_id for t in tasks]
    english = "Urgent referral: make sure this person is safe and supported."
    assert task_title(tasks[0]) == english
    with use_locale("sm"):
        assert task_title(tasks[0]) not in ("", english)
