"""How an email leaves: one SMTP conversation per message, with its failures told apart.

A failure before the message was handed over (connection refused, a 4xx or 5xx answer to
MAIL, RCPT or DATA) is definite: the server has not taken the message, so it can be tried
again. Once the whole message has been sent, a lost answer is ambiguous: the server may have
accepted it, so it must not be sent again without a person checking.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

from assistant.settings import Settings

# Answers to RCPT that mean the address itself is refused: trying again will not help.
_REFUSED_RECIPIENT = frozenset({550, 551, 553})
_LEADING_DOT = re.compile(rb"(?m)^\.")


class EmailFailure(Exception):
    """A send that did not go through. ``ambiguous``: the server may have accepted it."""

    def __init__(self, code: str, message: str, *, retryable: bool, ambiguous: bool = False):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class Outgoing:
    to: str
    subject: str
    body: str
    message_id: str
    date: datetime


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = True
    timeout: float = 10.0
    name: str = "smtp"

    def build(self, email: Outgoing) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = format_datetime(email.date)
        message["Message-ID"] = email.message_id
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(email.body)
        return message

    def send(self, email: Outgoing, *, before_data: Callable[[], bool]) -> str:
        """Send one message; ``before_data`` is asked just before the message is handed over
        (it records that, and answers False when the send must stop). Returns the server's
        answer; raises EmailFailure."""
        payload = self.build(email).as_bytes(policy=SMTP_POLICY)
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except smtplib.SMTPResponseException as exc:
            raise _answer_failure("connect", exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise EmailFailure("network", f"could not connect: {exc}", retryable=True) from exc
        try:
            self._envelope(smtp, email.to)
            if not before_data():
                raise EmailFailure("lost-claim", "another worker took the message", retryable=False)
            code, answer = smtp.docmd("DATA")
            if code != 354:
                raise _answer_failure("DATA", code, answer)
            try:
                smtp.send(_LEADING_DOT.sub(b"..", payload).rstrip(b"\r\n") + b"\r\n.\r\n")
            except (OSError, smtplib.SMTPException) as exc:
                # The end of the message never left: the server cannot have accepted it.
                raise EmailFailure("network", f"message not sent: {exc}", retryable=True) from exc
            try:
                code, answer = smtp.getreply()
            except (OSError, smtplib.SMTPException) as exc:
                raise EmailFailure(
                    "no-answer",
                    f"no answer after the message: {exc}",
                    retryable=False,
                    ambiguous=True,
                ) from exc
            if code != 250:
                raise _answer_failure("message", code, answer)
            return answer.decode("utf-8", "replace")[:300]
        except smtplib.SMTPResponseException as exc:
            raise _answer_failure("smtp", exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise EmailFailure("network", str(exc) or type(exc).__name__, retryable=True) from exc
        finally:
            _quit(smtp)

    def _envelope(self, smtp: smtplib.SMTP, to: str) -> None:
        smtp.ehlo()
        if self.starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if self.user:
            smtp.login(self.user, self.password)
        code, answer = smtp.mail(_address(self.sender))
        if code != 250:
            raise _answer_failure("MAIL", code, answer)
        code, answer = smtp.rcpt(to)
        if code not in (250, 251):
            raise _answer_failure("RCPT", code, answer)


def _address(sender: str) -> str:
    return parseaddr(sender)[1] or sender


def _answer_failure(stage: str, code: int, answer: bytes | str) -> EmailFailure:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
    permanent = stage == "RCPT" and code in _REFUSED_RECIPIENT
    return EmailFailure(str(code), f"{stage}: {text}"[:300], retryable=not permanent)


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def transport_for(settings: Settings) -> SmtpTransport | None:
    """The SMTP transport from settings; None while no SMTP host is configured."""
    if not settings.email_enabled:
        return None
    return SmtpTransport(
        host=settings.smtp_host.strip(),
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )
