"""Demo enrolment requests and funnel history (idempotent): something in Riccarton's "New
patients" queue, and a few weeks of people moving through the funnel for the dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.enrolment.funnel import mark
from assistant.enrolment.models import FunnelMark, Stage
from assistant.enrolment.requests import book, create_request, mark_enrolled
from assistant.people.models import Practice, User

# Fictional people and numbers (the test range +64 21 0000 xxxx).
REQUESTS = [
    # name, phone, language, barriers, days ago, what the practice did
    ("Losa Faleolo (demo)", "+64210000201", "sm", ["transport"], 1, None),
    ("Mariam Haddad (demo)", "+64210000202", "ar", ["language"], 3, "booked"),
    ("Wiremu Parata (demo)", "+64210000203", "mi", [], 9, "enrolled"),
]
# How many made-up people reached each stage over the last six weeks (no requests behind them).
HISTORY = {"texted": 40, "eligible": 31, "practice_chosen": 22, "request_sent": 17}
HISTORY_LANGUAGES = ("sm", "ar", "to", "en", "zh_Hans", "hi", "mi")


def load_demo_enrolment(session: Session) -> None:
    if session.exec(select(FunnelMark)).first() is not None:
        return
    now = utcnow()
    practices = list(session.exec(select(Practice).order_by(col(Practice.name))))
    riccarton = next((p for p in practices if p.name == "Riccarton Family Health"), None)
    staff = session.exec(select(User).where(User.email == "reception@riccarton.example.nz")).first()
    for index in range(HISTORY["texted"]):
        person = f"phone:+6421000{3000 + index}"
        language = HISTORY_LANGUAGES[index % len(HISTORY_LANGUAGES)]
        start = now - timedelta(days=42 - index, hours=index % 7)
        practice = practices[index % len(practices)] if practices else None
        for offset, stage in enumerate(
            (Stage.texted, Stage.eligible, Stage.practice_chosen, Stage.request_sent)
        ):
            if index >= HISTORY[stage.value]:
                break
            mark(
                session,
                person=person,
                stage=stage,
                at=start + timedelta(hours=offset * 5),
                language=language,
                practice_id=practice.id if practice and offset >= 2 else None,
            )
    if riccarton is None or riccarton.id is None or staff is None:
        session.commit()
        return
    for name, phone, language, barriers, days_ago, outcome in REQUESTS:
        made = now - timedelta(days=days_ago)
        mark(
            session,
            person=f"phone:{phone}",
            stage=Stage.texted,
            at=made - timedelta(hours=2),
            language=language,
        )
        request = create_request(
            session,
            practice_id=riccarton.id,
            name=name,
            phone=phone,
            language=language,
            barriers=barriers,
            consent=True,
            now=made,
        )
        if outcome in ("booked", "enrolled"):
            book(
                session,
                user=staff,
                request=request,
                message="Come in Thursday 10:30 am. Bring photo ID.",
                now=made + timedelta(hours=20),
            )
        if outcome == "enrolled":
            mark_enrolled(session, user=staff, request=request, now=made + timedelta(days=2))
    session.commit()
