"""The suite's clock: every test runs at one fixed moment unless it says otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from assistant.clock import NZ, to_local, utcnow
from tests.clock import FIXED_NOW


def test_tests_run_at_the_fixed_moment_whatever_the_date() -> None:
    assert abs(utcnow() - FIXED_NOW) < timedelta(minutes=1)
    assert to_local(utcnow()).date() == datetime(2026, 11, 24).date()


def test_a_test_can_move_to_another_moment(time_machine: time_machine.TimeMachineFixture) -> None:
    christmas_evening = datetime(2027, 12, 25, 19, 30, tzinfo=NZ)
    time_machine.move_to(christmas_evening, tick=False)
    assert utcnow() == christmas_evening.astimezone(UTC)
    assert to_local(utcnow()).hour == 19


@pytest.mark.real_clock
def test_the_clock_reads_the_machine_clock_in_utc() -> None:
    machine = datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(now - machine) < timedelta(seconds=5)


def test_naive_timestamps_are_read_as_utc() -> None:
    assert to_local(datetime(2026, 6, 1, 0, 0)) == datetime(2026, 6, 1, 12, 0, tzinfo=NZ)
