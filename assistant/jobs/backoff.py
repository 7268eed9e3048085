"""How long a failed send waits before its next try (shared by the SMS and email outboxes)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter: half the step fixed, half random; capped."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int = 8

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        step = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=step / 2 + rng.random() * step / 2)
