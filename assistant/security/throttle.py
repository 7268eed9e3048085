"""Login throttling: failures counted per address and per account, in the database.

Below ``slow_after`` failures within the window nothing happens; from there each attempt is
slowed down (a little more for each failure); ``block_after`` failures within one window
refuse the address or account for a whole window from the failure that completed the run.
Refused attempts are not counted, so a block ends on time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


def _normalise(account: str) -> str:
    return account.strip().lower()


def _block_end(times: list[datetime], *, window: timedelta, block_after: int) -> datetime | None:
    """When the latest block ends: ``block_after`` failures within one window start a block
    that lasts a whole window from the failure that completed the run."""
    end: datetime | None = None
    for i in range(block_after - 1, len(times)):
        if times[i] - times[i - block_after + 1] <= window:
            end = times[i] + window
    return end


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
    now = utcnow()
    window = timedelta(seconds=window_seconds)
    worst = 0
    blocked_until: datetime | None = None
    for clause in (col(LoginFailure.ip) == ip, col(LoginFailure.account) == _normalise(account)):
        # A block can have started up to one window before the window now open.
        rows = session.exec(
            select(LoginFailure.at)
            .where(clause, col(LoginFailure.at) > now - 2 * window)
            .order_by(col(LoginFailure.at))
        ).all()
        times = [at if at.tzinfo else at.replace(tzinfo=UTC) for at in rows]
        worst = max(worst, sum(1 for at in times if at > now - window))
        end = _block_end(times, window=window, block_after=block_after)
        if end is not None and end > now and (blocked_until is None or end > blocked_until):
            blocked_until = end
    if blocked_until is not None:
        return ThrottleState(worst, 0.0, blocked_until)
    delay = slow_delay_seconds * (worst - slow_after + 1) if worst >= slow_after else 0.0
    return ThrottleState(worst, delay, None)


def record_failure(
    session: Session, *, ip: str, account: str, keep_seconds: int = 2 * 24 * 3600
) -> None:
    """Count one failed sign-in; failures older than ``keep_seconds`` are dropped."""
    session.exec(
        delete(LoginFailure).where(
            col(LoginFailure.at) < utcnow() - timedelta(seconds=keep_seconds)
        )
    )
    session.add(LoginFailure(ip=ip, account=_normalise(account)[:254]))
    session.commit()


def begin_attempt(
    session: Session,
    *,
    ip: str,
    account: str,
    window_seconds: int,
    block_after: int,
    keep_seconds: int = 2 * 24 * 3600,
) -> int | None:
    """Count a sign-in attempt before its password is checked, so attempts made at the same
    moment cannot all slip under the limit. Returns the attempt's id (it stays counted as a
    failure unless the sign-in succeeds: ``clear_account``), or None when it is one too many
    (then it is not counted, and must be refused)."""
    now = utcnow()
    session.exec(
        delete(LoginFailure).where(col(LoginFailure.at) < now - timedelta(seconds=keep_seconds))
    )
    key = _normalise(account)[:254]
    row = LoginFailure(ip=ip, account=key, at=now)
    session.add(row)
    session.flush()
    attempt_id = row.id  # read now: a sign-in at the same moment may clear the row
    session.commit()
    since = now - timedelta(seconds=window_seconds)
    counted = 0
    for clause in (col(LoginFailure.ip) == ip, col(LoginFailure.account) == key):
        ids = session.exec(
            select(LoginFailure.id).where(clause, col(LoginFailure.at) > since)
        ).all()
        counted = max(counted, len(ids))
    if counted > block_after:
        session.exec(delete(LoginFailure).where(col(LoginFailure.id) == attempt_id))
        session.commit()
        return None
    return attempt_id


def clear_account(session: Session, *, account: str) -> None:
    """After a successful sign-in the account's failures are forgiven.

    The address's failures against other accounts stay: signing in to one's own account
    must not reset the count of guesses made at someone else's.
    """
    session.exec(delete(LoginFailure).where(col(LoginFailure.account) == _normalise(account)))
    session.commit()
