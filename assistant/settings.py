"""Application settings, read from the environment (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-secret-change-me"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./assistant.db"
    secret_key: str = DEFAULT_SECRET
    public_base_url: str = "http://127.0.0.1:8000"
    session_max_age_seconds: int = 60 * 60 * 12
    default_locale: str = "en"

    # Login throttling: failures within the window from one address or for one account.
    login_window_seconds: int = 15 * 60
    login_slow_after: int = 5
    login_block_after: int = 10
    # Addresses of reverse proxies whose X-Forwarded-For / -Proto headers are believed (comma
    # separated, e.g. "10.0.0.5"); empty: none, the connecting address is the client's.
    trusted_proxies: str = ""
    login_slow_delay_seconds: float = 1.0

    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base_url: str = ""  # empty: Twilio's own API; set in tests to a local fake
    twilio_timeout_seconds: float = 10.0
    pho_phone_number: str = "0800 000 746"

    # Threads per web process for the routes' blocking work (database, templates). Python runs
    # one thread at a time, so threads beyond a few only take turns mid-request: each wait on
    # the database hands Python to another thread and back, and the process spends its time
    # switching. A few cover the waits on the database. Measured (the app in process, 32
    # requests at once on PostgreSQL, CPU per request): 5 threads against 40 (anyio's
    # default), SMS 1.82 against 2.10 ms, chat 1.86 against 2.41, forms 2.56 against 3.24;
    # 3 threads left the process idle while all three waited. A request waiting for a thread
    # holds no database connection, and a slowed sign-in attempt holds no thread.
    web_threads: int = Field(default=5, ge=1, le=200)

    run_worker_in_app: bool = True
    worker_poll_seconds: float = 2.0

    # Email through SMTP. Off while SMTP_HOST is empty: queued emails are then settled as not
    # sent (recorded, never delivered later), so the demo runs without a mail server.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = "PHO assistant <assistant@localhost>"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 10.0

    # Password reset links: how long one works, and how many may be asked for per window.
    password_reset_minutes: int = 30
    password_reset_window_seconds: int = 60 * 60
    password_reset_per_account: int = 3
    password_reset_per_ip: int = 10

    demo_password: str = Field(default="demo-pass-2026")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host.strip())

    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's proxy settings: forwarded headers believed only from ``trusted_proxies``
        (uvicorn's own default trusts 127.0.0.1, so anyone on this machine could claim any
        address and slip past the sign-in limits)."""
        proxies = ",".join(p.strip() for p in self.trusted_proxies.split(",") if p.strip())
        return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or ""}

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")

    def check_production(self) -> None:
        """Refuse to run in production with settings that are only safe for development."""
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise RuntimeError("SECRET_KEY must be set to a strong secret in production")


@lru_cache
def get_settings() -> Settings:
    return Settings()
