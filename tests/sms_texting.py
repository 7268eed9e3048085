"""A phone texting the SMS guide in a test: each message goes through ``handle_inbound`` with a
fresh MessageSid, a minute after the one before."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from assistant.contacts.models import SmsContact
from assistant.i18n import use_locale
from assistant.pcw.models import Referral
from assistant.sms.conversation import handle_inbound

PHO_PHONE = "0800 000 746"
_sids = itertools.count(1)


class Texter:
    """One phone texting the service; ``now`` moves a minute per message unless set."""

    def __init__(self, session: Session, phone: str, start: datetime) -> None:
        self.session = session
        self.phone = phone
        self.now = start

    def __call__(self, body: str) -> str:
        self.now += timedelta(minutes=1)
        return handle_inbound(
            self.session,
            phone=self.phone,
            body=body,
            message_sid=f"SMtx{next(_sids):030d}",
            now=self.now,
            pho_phone=PHO_PHONE,
        )

    @property
    def contact(self) -> SmsContact:
        self.session.expire_all()
        return self.session.exec(select(SmsContact).where(SmsContact.phone == self.phone)).one()

    def referrals(self) -> list[Referral]:
        self.session.expire_all()
        return list(
            self.session.exec(
                select(Referral).where(Referral.phone == self.phone).order_by(col(Referral.id))
            )
        )


def said(lang: str, build: Callable[..., str], *args: Any) -> str:
    """What the guide says in ``lang``."""
    with use_locale(lang):
        return build(*args)
