"""Demo referrals and follow-up tasks for the PCW inbox (idempotent)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.pcw.models import FollowUpTask, Referral
from assistant.pcw.referrals import create_referral
from assistant.pcw.tasks import create_task
from assistant.people.models import Agency, User

# Fictional people and numbers.
REFERRALS = [
    {
        "source": "sms",
        "phone": "+64210000101",
        "language": "sm",
        "transcript": "> Talofa\n< Talofa! O a'u o le fesoasoani a le PHO...\n"
        "> E leai sau foma'i, ou te mana'o e vala'au mai se tasi",
        "barriers": ["cost", "transport"],
        "reason": "callback",  # the SMS guide's reason codes, shown translated
        "urgent": False,
    },
    {
        "source": "sms",
        "phone": "+64210000102",
        "language": "ar",
        "transcript": "> مرحبا\n< مرحبا! ...\n> أحتاج مترجم للطبيب",
        "barriers": ["language", "system-knowledge"],
        "reason": "barrier",
        "urgent": True,
    },
    {
        "source": "practice",
        "phone": "+64210000103",
        "language": "to",
        "transcript": "",
        "barriers": ["transport", "isolation"],
        "reason": "Practice asks for help getting this patient to appointments",
        "urgent": False,
        "contact_name": "Sione (demo)",
        "agency": "Pacific Trust Canterbury",
    },
]


def load_demo_pcw(session: Session) -> None:
    if session.exec(select(Referral)).first() is not None:
        return
    agencies = {a.name: a.id for a in session.exec(select(Agency))}
    made = []
    for item in REFERRALS:
        fields = dict(item)
        agency = fields.pop("agency", None)
        made.append(
            create_referral(
                session,
                agency_id=agencies.get(str(agency)) if agency else None,
                **fields,  # type: ignore[arg-type]
            )
        )
    session.commit()
    if session.exec(select(FollowUpTask)).first() is not None:
        return
    tala = session.exec(
        select(User).where(User.email == "pcw.tala@pacifictrust.example.nz")
    ).first()
    today = utcnow().date()
    create_task(
        session,
        assignee_id=tala.id if tala else None,
        agency_id=tala.agency_id if tala else None,
        title="Book transport for Sione's first GP visit",
        kind="transport",
        due=today + dt.timedelta(days=2),
        referral_id=made[2].id,
    )
    create_task(
        session,
        assignee_id=None,
        agency_id=None,
        title="Ring back about enrolment (SMS referral)",
        kind="call-back",
        due=today - dt.timedelta(days=1),
        referral_id=made[0].id,
    )
    session.commit()
