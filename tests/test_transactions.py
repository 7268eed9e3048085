"""One owner for each transaction: the entry point commits, domain functions only add and flush.

A domain function that commits stores half of what its caller does (a ticket without its note
in the chat, a new password without the new session) when the caller goes on to fail. This
reads the source, so a ``.commit(`` in the wrong place fails here rather than in production.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"

# Entry points and their own transactions: the only modules outside the routes
# (assistant/web/) that may commit.
ENTRY_POINTS = {
    "assistant/cli.py": "CLI commands",
    "assistant/schedule.py": "the worker's scheduled steps",
    "assistant/demo.py": "the demo loader",
    "assistant/support/demo.py": "a demo loader",
    "assistant/pcw/demo.py": "a demo loader",
    "assistant/enrolment/demo.py": "a demo loader",
    "assistant/forms/reporting/dashboard_demo.py": "a demo loader",
    "assistant/jobs/claiming.py": "a job is claimed in its own short transaction",
    "assistant/outbox/worker.py": "the outbox worker's steps",
    "assistant/notify/worker.py": "the email worker's steps",
    "assistant/outbox/status.py": "Twilio's delivery reports, each its own transaction",
    "assistant/security/throttle.py": "sign-in counters must be counted whatever the request does",
    "assistant/sms/conversation.py": "an inbound text and its reply, retried as one transaction",
    "assistant/forms/capture/submissions.py": "a submission, retried as one transaction",
    "assistant/db.py": "a request's session closed: one that only read ends with COMMIT",
}
# Domain modules whose functions only flush: their callers commit.
FLUSH_ONLY = [
    "assistant/support/chat.py",
    "assistant/support/tickets.py",
    "assistant/support/drafts.py",
    "assistant/pcw/inbox.py",
    "assistant/pcw/tasks.py",
    "assistant/people/accounts.py",
    "assistant/outbox/review.py",
    "assistant/security/sessions.py",
]


def commits(path: Path) -> list[tuple[str, int]]:
    """Each ``<anything>.commit(...)`` call in the file: the function it is in, and its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = function or child.name  # a nested function belongs to its outer one
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "commit"
            ):
                found.append((function or "<module>", child.lineno))
            visit(child, name)

    visit(tree, "")
    return found


def test_the_scan_finds_a_commit() -> None:
    sample = ROOT / "assistant" / "cli.py"
    assert commits(sample), "the scan must see the CLI's commits, or it proves nothing"


@pytest.mark.parametrize("module", FLUSH_ONLY)
def test_a_domain_module_leaves_the_commit_to_its_caller(module: str) -> None:
    found = commits(ROOT / module)
    assert found == [], f"{module} commits; flush instead and let the entry point commit"


def test_only_entry_points_commit() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        if module.startswith("assistant/web/") or module in ENTRY_POINTS:
            continue
        wrong += [f"{module}:{line} ({function})" for function, line in commits(path)]
    assert wrong == [], "only routes, CLI commands, worker steps and demo loaders commit"


def test_a_sqlite_commit_is_on_disk_before_the_answer(tmp_path: Path) -> None:
    """Write-ahead log, and every commit synced: a phone deletes its offline copy of a form once
    answered, and Twilio does not resend an answered text, so a power cut must not undo them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'durable.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    finally:
        engine.dispose()
