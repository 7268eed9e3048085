"""The moment every test runs at unless it says otherwise.

No test reads the real clock: ``tests/conftest.py`` moves the whole process (datetime, date,
time.time, and the live server's thread) to ``FIXED_NOW`` before any fixture runs and back to it
before each test, with time flowing from there. A test that needs another moment says so with the
``time_machine`` fixture (``time_machine.move_to(...)``); a test about the real clock itself is
marked ``real_clock``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from assistant.clock import NZ

# A Tuesday morning in New Zealand business hours (daylight time), an ordinary working day.
FIXED_NOW = datetime(2026, 11, 24, 10, 0, tzinfo=NZ).astimezone(UTC)
