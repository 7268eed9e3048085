"""Domain and access errors, mapped to responses in one handler table (see app.py)."""

from __future__ import annotations


class AppError(Exception):
    """Base for errors a user can act on; ``message`` is already translated."""

    status_code = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class LoginRequired(AppError):
    status_code = 302


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class Invalid(AppError):
    status_code = 422
