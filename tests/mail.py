"""Settings that send the app's email to the test SMTP server (tests/fake_smtp.py)."""

from __future__ import annotations

from assistant.settings import Settings


def smtp_settings(settings: Settings, port: int) -> Settings:
    """``settings`` pointed at a plain SMTP server on 127.0.0.1:``port``."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_timeout_seconds": 5.0,
            "smtp_from": "PHO assistant <assistant@pho.example.nz>",
        }
    )
