"""Login throttling: failures counted per address and per account, in the database.

Below ``slow_after`` failures nothing happens; from there each attempt is slowed down; at
``block_after`` failures within the window the address or account is refused until the
window has passed since the latest failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Field, Session, SQLModel, col, delete, select

from assistant.clock import utcnow


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    ip: str = Field(max_length=64, index=True)
    account: str = Field(max_length=254, index=True)


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    delay_seconds: float
    blocked_until: datetime | None

    @property
    def blocked(self) -> bool:
        return self.blocked_until is not None


def state_for(
    session: Session,
    *,
    ip: str,
    account: str,
    window_seconds: int,
    slow_after: int,
    block_after: int,
    slow_delay_seconds: float,
) -> ThrottleState:
    since = utcnow() - timedelta(seconds=window_seconds)
    worst = 0
    latest: datetime | None = None
    for clause in (col(LoginFailure.ip) == ip, col(LoginFailure.account) == account.lower()):
        count, last = session.exec(
            select(func.count(), func.max(LoginFailure.at)).where(
                clause, col(LoginFailure.at) > since
            )
        ).one()
        if count > worst:
            worst, latest = int(count), last
    if worst >= block_after and latest is not None:
        return ThrottleState(worst, 0.0, latest + timedelta(seconds=window_seconds))
    delay = slow_delay_seconds * (worst - slow_after + 1) if worst >= slow_after else 0.0
    return ThrottleState(worst, delay, None)


def record_failure(session: Session, *, ip: str, account: str) -> None:
    session.add(LoginFailure(ip=ip, account=account.lower()))
    session.commit()


def clear_account(session: Session, *, ip: str, account: str) -> None:
    """After a successful login the account's and address's failures are forgiven."""
    session.exec(
        delete(LoginFailure).where(
            or_(col(LoginFailure.account) == account.lower(), col(LoginFailure.ip) == ip)
        )
    )
    session.commit()
