"""The SMS conversation: one inbound message in, one reply out, exactly once per MessageSid.

``handle_inbound`` is the whole of it for the webhook and the simulator: it finds (or creates)
the contact, takes the contact's row lock, returns the stored reply for a MessageSid already
handled, else runs one step of the conversation (``_converse``) and stores the message and
its reply in the same transaction. A unique constraint on MessageSid backs this up when two
copies race; the loser rolls back and returns the winner's reply.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from assistant.clock import utcnow
from assistant.i18n import use_locale
from assistant.sms import messages as msg
from assistant.sms.keywords import (
    OPT_IN_EXTRA,
    Answer,
    Keyword,
    answer,
    barriers,
    keyword,
    language_choice,
    language_named,
    number,
)
from assistant.sms.language import detect
from assistant.sms.models import SmsContact, SmsInbound
from assistant.sms.phone import mask_phone
from assistant.sms.places import find_place, nearby_practices
from assistant.sms.text import fold

log = logging.getLogger(__name__)

IDLE_RESET = timedelta(hours=24)
TRANSCRIPT_MESSAGES = 20
_ATTEMPTS = 5


class Step:
    new = "new"
    lang = "lang"
    menu = "menu"
    elig_citizen = "elig_citizen"
    elig_visa = "elig_visa"
    elig_child = "elig_child"
    where = "where"
    practices = "practices"
    bring = "bring"
    offer_callback = "offer_callback"


def handle_inbound(
    session: Session,
    *,
    phone: str,
    body: str,
    message_sid: str,
    now: datetime | None = None,
    pho_phone: str | None = None,
) -> str:
    """The reply to one inbound message ("" for none). ``phone`` is E.164."""
    now = now or utcnow()
    if pho_phone is None:
        from assistant.settings import get_settings

        pho_phone = get_settings().pho_phone_number
    stored = _stored_reply(session, message_sid)
    if stored is not None:
        log.info("sms duplicate sid=%s from=%s", message_sid, mask_phone(phone))
        return stored
    for _attempt in range(_ATTEMPTS):
        try:
            contact = _lock_contact(session, phone=phone, now=now)
            stored = _stored_reply(session, message_sid)
            if stored is not None:
                session.rollback()
                log.info("sms duplicate sid=%s from=%s", message_sid, mask_phone(phone))
                return stored
            turn = _Turn(session=session, contact=contact, body=body, now=now, pho_phone=pho_phone)
            reply = turn.run()
            assert contact.id is not None
            session.add(
                SmsInbound(
                    message_sid=message_sid,
                    contact_id=contact.id,
                    body=body,
                    reply=reply,
                    language=contact.language,
                    step=contact.step,
                    received_at=now,
                )
            )
            session.commit()
            log.info(
                "sms handled sid=%s from=%s lang=%s step=%s",
                message_sid,
                mask_phone(phone),
                contact.language,
                contact.step,
            )
            return reply
        except (IntegrityError, OperationalError) as exc:
            # A copy of this message (or a first message from the same new number) won the
            # race: use its stored reply, or try again now that the contact exists.
            session.rollback()
            stored = _stored_reply(session, message_sid)
            if stored is not None:
                return stored
            log.info("sms retry sid=%s after %s", message_sid, type(exc).__name__)
    raise RuntimeError(f"could not store inbound message {message_sid}")


def _stored_reply(session: Session, message_sid: str) -> str | None:
    row = session.exec(
        select(SmsInbound.reply).where(SmsInbound.message_sid == message_sid)
    ).first()
    return row


def _lock_contact(session: Session, *, phone: str, now: datetime) -> SmsContact:
    """The contact for ``phone``, created if new, locked until the transaction ends.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the contact's row. SQLite: a no-op UPDATE takes the
    database's write lock first, so every read after it sees the latest committed state.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        result = session.execute(
            update(SmsContact)
            .where(col(SmsContact.phone) == phone)
            .values(phone=SmsContact.phone)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 0:
            return _create_contact(session, phone=phone, now=now)
        contact = session.exec(
            select(SmsContact)
            .where(SmsContact.phone == phone)
            .execution_options(populate_existing=True)
        ).one()
        return contact
    locked = session.exec(
        select(SmsContact)
        .where(SmsContact.phone == phone)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if locked is None:
        return _create_contact(session, phone=phone, now=now)
    return locked


def _create_contact(session: Session, *, phone: str, now: datetime) -> SmsContact:
    contact = SmsContact(phone=phone, created_at=now)
    session.add(contact)
    session.flush()  # IntegrityError here when another worker created it first
    return contact


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


@dataclass
class _Turn:
    """One step of one contact's conversation."""

    session: Session
    contact: SmsContact
    body: str
    now: datetime
    pho_phone: str
    answers: dict[str, Any] = field(default_factory=dict)
    _match: Any = None

    def run(self) -> str:
        contact = self.contact
        try:
            self.answers = json.loads(contact.answers or "{}")
        except ValueError:
            self.answers = {}
        idle = (
            contact.last_activity is not None
            and self.now - _aware(contact.last_activity) >= IDLE_RESET
        )
        contact.last_activity = self.now
        reply = self._reply(idle=idle)
        contact.answers = json.dumps(self.answers, ensure_ascii=False, sort_keys=True)
        self.session.add(contact)
        return reply

    # -- helpers -------------------------------------------------------------------------

    def say(self, build: Any, *args: Any) -> str:
        with use_locale(self.contact.language):
            return str(build(*args))

    def goto(self, step: str) -> None:
        self.contact.step = step

    def match(self) -> Any:
        if self._match is None:
            from assistant.matcher import match

            # Before a language is settled, the safety rules look at every language.
            settled = self.contact.step not in (Step.new, Step.lang)
            lang = self.contact.language if settled else None
            self._match = match(self.body, audience="patient", lang=lang)
        return self._match

    def transcript(self, reply: str) -> str:
        assert self.contact.id is not None
        rows = list(
            self.session.exec(
                select(SmsInbound)
                .where(SmsInbound.contact_id == self.contact.id)
                .order_by(col(SmsInbound.received_at).desc(), col(SmsInbound.id).desc())
                .limit(TRANSCRIPT_MESSAGES)
            )
        )
        lines = []
        for row in reversed(rows):
            lines.append(f"> {row.body}")
            if row.reply:
                lines.append(f"< {row.reply}")
        lines.append(f"> {self.body}")
        if reply:
            lines.append(f"< {reply}")
        return "\n".join(lines)

    def refer(
        self, *, reason: str, reply: str, urgent: bool = False, found: list[str] | None = None
    ) -> None:
        from assistant.pcw.referrals import create_referral

        barrier_list = sorted(set(found or []) | set(self.answers.get("barriers", [])))
        create_referral(
            self.session,
            source="sms",
            phone=self.contact.phone,
            language=self.contact.language,
            transcript=self.transcript(reply),
            barriers=barrier_list,
            reason=reason,
            urgent=urgent,
            commit=False,
        )
        self.answers.setdefault("referrals", []).append(reason)

    # -- the conversation ----------------------------------------------------------------

    def _reply(self, *, idle: bool) -> str:
        contact = self.contact
        kw = keyword(self.body)
        if kw is Keyword.stop:
            contact.opted_out = True
            contact.opted_out_at = self.now
            return self.say(msg.opted_out)
        if contact.opted_out:
            if kw is Keyword.start or fold(self.body) in OPT_IN_EXTRA:
                contact.opted_out = False
                contact.opted_out_at = None
                self.answers = {}
                if contact.step == Step.new:
                    self.goto(Step.lang)
                    return self.say(msg.language_menu)
                self.goto(Step.menu)
                return self.say(msg.opted_in)
            # Nothing is ever texted to an opted-out number, but a PCW still hears of an
            # emergency or a crisis (a phone call is not a text).
            self._safety(silent=True)
            return ""
        if not self.body.strip():  # a picture without words, say
            if contact.step in (Step.new, Step.lang):
                self.goto(Step.lang)
                return self.say(msg.language_menu)
            return self.say(msg.menu_again)

        detected: str | None = None
        if contact.step in (Step.new, Step.lang):
            chosen = language_choice(self.body) if contact.step == Step.lang else None
            detected = chosen or detect(self.body)
            if detected:
                contact.language = detected

        safety = self._safety()
        if safety is not None:
            return safety

        if kw is Keyword.help:
            return self.say(msg.help_text, self.pho_phone)
        if kw is Keyword.lang:
            self.goto(Step.lang)
            return self.say(msg.language_menu)
        named = language_named(self.body)
        if named and contact.step not in (Step.new, Step.lang):
            contact.language = named
            self.goto(Step.menu)
            return self.say(msg.welcome)
        choosing = contact.step in (Step.new, Step.lang)
        if (kw is Keyword.menu or kw is Keyword.start) and not (choosing and not detected):
            self.goto(Step.menu)
            return self.say(msg.menu_again)
        if idle and contact.step not in (Step.new, Step.lang):
            self.answers = {}
            self.goto(Step.menu)
            return self.say(msg.fresh_start)

        if contact.step == Step.new:
            if detected:
                self.goto(Step.menu)
                return self.say(msg.welcome)
            self.goto(Step.lang)
            return self.say(msg.language_menu)
        if contact.step == Step.lang:
            if detected:
                self.goto(Step.menu)
                return self.say(msg.welcome)
            return self.say(msg.language_menu)

        handler = _STEP_HANDLERS.get(contact.step)
        reply = handler(self) if handler else None
        if reply is not None:
            return reply
        return self._free_text()

    def _safety(self, *, silent: bool = False) -> str | None:
        if number(self.body) is not None or answer(self.body) is not None:
            return None
        result = self.match()
        if result.status != "safety":
            return None
        build = msg.crisis_support if result.safety == "crisis-support" else msg.emergency
        reply = "" if silent else self.say(build)
        self.refer(reason="safety", reply=reply, urgent=True)
        return reply

    def _free_text(self) -> str:
        result = self.match()
        found = [b for b in barriers(self.body) if b not in self.answers.get("barriers", [])]
        body = self._knowledge_text(result)
        suffix = ""
        if found:
            suffix = self.say(msg.barrier_noted)
            reply_preview = self.say(msg.knowledge_answer, body, suffix) if body else suffix
            self.refer(reason="barrier", reply=reply_preview, found=found)
            self.answers["barriers"] = sorted(set(self.answers.get("barriers", [])) | set(found))
            return reply_preview
        if body:
            return self.say(msg.knowledge_answer, body, "")
        self.answers["question"] = self.body[:500]
        self.answers["callback_reason"] = "question"
        self.goto(Step.offer_callback)
        return self.say(msg.abstain)

    def _knowledge_text(self, result: Any) -> str:
        if result.status not in ("answer", "choose"):
            return ""
        entry_id = result.entry_id or (result.candidates[0].entry_id if result.candidates else None)
        if not entry_id:
            return ""
        from assistant.knowledge import get_knowledge_base

        entry = get_knowledge_base().get(entry_id)
        lang = self.contact.language
        if entry is None or not entry.for_audience("patient") or lang not in entry.variants:
            return ""
        from assistant.knowledge.usage import record_usage

        record_usage(self.session, entry_id=entry_id, kind="answered", at=self.now, commit=False)
        return entry.variant(lang).body_text

    # -- step handlers: a reply, or None to treat the message as a question ----------------

    def on_menu(self) -> str | None:
        choice = number(self.body)
        if choice is None:
            return None
        if choice == 1:
            self.goto(Step.elig_citizen)
            return self.say(msg.eligibility_citizen)
        if choice == 2:
            self.goto(Step.where)
            return self.say(msg.ask_where)
        if choice == 3:
            self.goto(Step.bring)
            return self.say(msg.what_to_bring)
        if choice == 4:
            self.answers["callback_reason"] = "callback"
            self.goto(Step.offer_callback)
            return self.say(msg.costs)
        if choice == 5:
            return self._book_callback("callback")
        return self.say(msg.menu_number_unknown)

    def _eligibility(self, *, on_no: str | None) -> str | None:
        said = answer(self.body)
        if said is Answer.yes:
            self.answers["eligibility"] = "eligible"
            self.goto(Step.where)
            return self.say(msg.eligible)
        if said is Answer.unsure:
            self.answers["eligibility"] = "unsure"
            self.answers["callback_reason"] = "eligibility-unsure"
            self.goto(Step.offer_callback)
            return self.say(msg.unsure)
        if said is Answer.no:
            if on_no == Step.elig_visa:
                self.goto(Step.elig_visa)
                return self.say(msg.eligibility_visa)
            if on_no == Step.elig_child:
                self.goto(Step.elig_child)
                return self.say(msg.eligibility_child)
            self.answers["eligibility"] = "not-eligible"
            self.answers["callback_reason"] = "not-eligible"
            self.goto(Step.offer_callback)
            return self.say(msg.not_eligible)
        return None

    def on_elig_citizen(self) -> str | None:
        return self._eligibility(on_no=Step.elig_visa)

    def on_elig_visa(self) -> str | None:
        return self._eligibility(on_no=Step.elig_child)

    def on_elig_child(self) -> str | None:
        return self._eligibility(on_no=None)

    def on_where(self) -> str | None:
        place = find_place(self.body)
        if place is None:
            if self.match().status in ("answer", "safety") or barriers(self.body):
                return None
            return self.say(msg.place_unknown)
        self.answers["place"] = place.name
        found = nearby_practices(self.session, place=place)
        if not found:
            self.answers["callback_reason"] = "no-practice"
            self.goto(Step.offer_callback)
            return self.say(msg.no_practices)
        self.answers["practices"] = [n.practice.id for n in found]
        self.goto(Step.practices)
        return self.say(msg.practices, found)

    def on_practices(self) -> str | None:
        if answer(self.body) is Answer.yes:
            self.goto(Step.bring)
            return self.say(msg.what_to_bring)
        return None

    def on_bring(self) -> str | None:
        if answer(self.body) is Answer.yes:
            self.answers["callback_reason"] = "callback"
            self.goto(Step.offer_callback)
            return self.say(msg.costs)
        return None

    def on_offer_callback(self) -> str | None:
        said = answer(self.body)
        if said is Answer.yes:
            return self._book_callback(str(self.answers.get("callback_reason", "callback")))
        if said is Answer.no:
            self.goto(Step.menu)
            return self.say(msg.callback_declined)
        if said is Answer.unsure:
            return self.say(msg.yes_or_no)
        return None

    def _book_callback(self, reason: str) -> str:
        reply = self.say(msg.callback_booked)
        self.refer(reason=reason, reply=reply)
        self.answers.pop("callback_reason", None)
        self.goto(Step.menu)
        return reply


_STEP_HANDLERS = {
    Step.menu: _Turn.on_menu,
    Step.elig_citizen: _Turn.on_elig_citizen,
    Step.elig_visa: _Turn.on_elig_visa,
    Step.elig_child: _Turn.on_elig_child,
    Step.where: _Turn.on_where,
    Step.practices: _Turn.on_practices,
    Step.bring: _Turn.on_bring,
    Step.offer_callback: _Turn.on_offer_callback,
}


def conversation_for(session: Session, *, phone: str, limit: int = 50) -> list[SmsInbound]:
    """The latest messages from ``phone`` with our replies, oldest first (the simulator)."""
    contact = session.exec(select(SmsContact).where(SmsContact.phone == phone)).first()
    if contact is None or contact.id is None:
        return []
    rows = session.exec(
        select(SmsInbound)
        .where(SmsInbound.contact_id == contact.id)
        .order_by(col(SmsInbound.received_at).desc(), col(SmsInbound.id).desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


__all__ = ["IDLE_RESET", "Step", "conversation_for", "handle_inbound"]
