"""The command line: ``python -m assistant COMMAND``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from assistant.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="PHO assistant")
i18n_app = typer.Typer(no_args_is_help=True, help="Babel chores for the UI catalogs")
app.add_typer(i18n_app, name="i18n")


def _session() -> Session:
    from assistant.db import get_engine

    return Session(get_engine(get_settings().database_url))


@app.command()
def migrate() -> None:
    """Bring the database at DATABASE_URL to the latest revision."""
    from assistant.db import migrate as run_migrations

    run_migrations(get_settings().database_url)
    typer.echo("Database is up to date.")


@app.command()
def demo() -> None:
    """Load demo practices, staff, portfolios, knowledge and forms (idempotent)."""
    from assistant.demo import load_demo

    settings = get_settings()
    with _session() as session:
        logins = load_demo(session, password=settings.demo_password)
    _print_logins(logins, settings.demo_password)


def _print_logins(logins: list, password: str) -> None:  # type: ignore[type-arg]
    typer.echo(f"Demo logins (password for all: {password}):")
    for login in logins:
        typer.echo(f"  {login.email:42} {login.role:15} {login.note}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    reload: Annotated[bool, typer.Option(help="Reload on code changes")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Web processes sharing the port (production). With more than one, the outbox "
            "worker is not started in them: run `python -m assistant worker` beside them.",
        ),
    ] = 1,
) -> None:
    """Migrate, load demo data into an empty database, and serve the app."""
    import uvicorn

    from assistant.db import migrate as run_migrations
    from assistant.demo import is_empty, load_demo

    if reload and workers > 1:
        typer.echo("--reload serves one process: leave out --workers.", err=True)
        raise typer.Exit(code=2)
    settings = get_settings()
    settings.check_production()
    run_migrations(settings.database_url)
    if settings.environment != "production":
        with _session() as session:
            if is_empty(session):
                logins = load_demo(session, password=settings.demo_password)
                _print_logins(logins, settings.demo_password)
            else:
                typer.echo("Database has data; demo logins use the demo password if loaded.")
    typer.echo(f"Serving on http://{host}:{port}")
    if workers == 1:
        uvicorn.run(
            "assistant.main:app", host=host, port=port, reload=reload, **settings.proxy_options()
        )
        return
    from assistant.serving import ReusePortSupervisor

    # Each web process reads its settings from the environment: none of them runs the outbox.
    os.environ["RUN_WORKER_IN_APP"] = "false"
    typer.echo(
        f"{workers} web processes; the outbox is not sent from them: "
        "run `python -m assistant worker` as its own process."
    )
    config = uvicorn.Config(
        "assistant.main:app", host=host, port=port, workers=workers, **settings.proxy_options()
    )
    # Each process listens on a socket of its own and the kernel spreads new connections
    # over them (one shared socket gave nearly all of them to whichever process woke first).
    try:
        supervisor = ReusePortSupervisor(config)
    except OSError as exc:
        typer.echo(f"Cannot listen on {host}:{port}: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    supervisor.run()


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Drain what is due, then exit")] = False,
) -> None:
    """Send queued SMS and email, and escalate overdue questions (until stopped unless --once)."""
    import logging
    import threading

    from assistant.outbox.runner import run_steps, run_until
    from assistant.outbox.worker import worker_for
    from assistant.schedule import steps_for

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = get_settings()
    outbox = worker_for(settings)
    steps = steps_for(settings)
    if once:
        run_steps(steps)
        stats = outbox.drain()
        typer.echo(
            f"Claimed {stats.claimed}, sent {stats.sent}, retrying {stats.retried}, "
            f"failed {stats.failed}, cancelled {stats.cancelled}."
        )
        return
    typer.echo(f"Outbox worker running ({outbox.transport.name} transport); Ctrl-C stops it.")
    stop = threading.Event()
    try:
        run_until(outbox, stop, settings.worker_poll_seconds, steps)
    except KeyboardInterrupt:
        stop.set()


@app.command()
def check() -> None:
    """Validate the content folders; exit non-zero with a list of problems."""
    from assistant.content_check import run_all

    results = run_all()
    total = 0
    for name, problems in results.items():
        for problem in problems:
            typer.echo(problem)
        total += len(problems)
        if not problems:
            typer.echo(f"{name}: ok")
    if total:
        typer.echo(f"{total} problem(s) found.", err=True)
        raise typer.Exit(code=1)


@app.command()
def createadmin(
    email: Annotated[str, typer.Option(prompt=True)],
    name: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create an admin user (or reset an existing admin's password)."""
    from assistant.people.accounts import find_by_email, set_password
    from assistant.people.models import Role, User
    from assistant.security.passwords import hash_password

    if len(password) < 10:
        typer.echo("Password must be at least 10 characters.", err=True)
        raise typer.Exit(code=2)
    with _session() as session:
        user = find_by_email(session, email)
        if user is None:
            session.add(
                User(
                    email=email.strip(),
                    name=name,
                    role=Role.admin,
                    password_hash=hash_password(password),
                )
            )
            session.commit()
            typer.echo(f"Created admin {email}.")
        elif user.role != Role.admin:
            typer.echo(f"{email} exists and is not an admin.", err=True)
            raise typer.Exit(code=1)
        else:
            set_password(session, user=user, password=password)
            session.commit()
            typer.echo(f"Reset the password of admin {email}.")


@app.command("escalate-overdue")
def escalate_overdue() -> None:
    """Move overdue practice questions into their team's queue (safe to run every few minutes)."""
    from assistant.support.tickets import escalate_overdue as escalate

    with _session() as session:
        moved = escalate(session)
        session.commit()
    typer.echo(f"Escalated {len(moved)} overdue question(s).")


@app.command("escalate-enrolments")
def escalate_enrolments() -> None:
    """Give enrolment requests a practice left unanswered for two business days to the PCW
    team (safe to run every few minutes; the worker does it on its own schedule)."""
    from assistant.clock import utcnow
    from assistant.enrolment.escalation import escalate_unanswered

    with _session() as session:
        moved = escalate_unanswered(session, now=utcnow())
        session.commit()
    typer.echo(f"Handed {len(moved)} unanswered enrolment request(s) to the PCW team.")


@i18n_app.command("extract")
def i18n_extract() -> None:
    """Extract messages from Python and templates into locales/messages.pot."""
    from assistant import i18n_tools

    with i18n_tools.locked():
        catalog = i18n_tools.extract()
    typer.echo(f"Extracted {len(catalog)} messages.")


@i18n_app.command("update")
def i18n_update() -> None:
    """Extract, then merge new messages into every language's catalog."""
    from assistant import i18n_tools

    i18n_tools.update()
    gaps = i18n_tools.missing()
    for lang, ids in gaps.items():
        typer.echo(f"{lang}: {len(ids)} untranslated")
    typer.echo("Catalogs updated.")


@i18n_app.command("compile")
def i18n_compile() -> None:
    """Compile every catalog to .mo."""
    from assistant import i18n_tools

    typer.echo(f"Compiled {len(i18n_tools.compile_all())} catalogs.")


@i18n_app.command("missing")
def i18n_missing(
    lang: Annotated[str | None, typer.Option(help="Only this language")] = None,
) -> None:
    """List untranslated messages."""
    from assistant import i18n_tools

    gaps = i18n_tools.missing()
    for code, ids in gaps.items():
        if lang and code != lang:
            continue
        for mid in ids:
            typer.echo(f"{code}\t{mid}")
    if any(not lang or code == lang for code in gaps):
        raise typer.Exit(code=1)


@i18n_app.command("fill")
def i18n_fill(path: Path) -> None:
    """Import translations from JSON: {msgid: {lang: text}}."""
    from assistant import i18n_tools

    typer.echo(f"Set {i18n_tools.fill_from_file(path)} translations.")


kb_app = typer.Typer(no_args_is_help=True, help="The knowledge base")
app.add_typer(kb_app, name="kb")


@kb_app.command("export")
def kb_export(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array")] = False,
) -> None:
    """Print every entry, one record per language variant."""
    import json

    from assistant.knowledge import get_knowledge_base
    from assistant.knowledge.export import export_records

    records = export_records(get_knowledge_base())
    if as_json:
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    for record in records:
        typer.echo(f"{record['id']}\t{record['lang']}\t{record['audience']}\t{record['title']}")


@app.command("eval")
def eval_queries(
    queries: Annotated[Path, typer.Argument(help="TSV: query, expected, lang, audience")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Score the matcher on a file of queries (top-1, out-of-scope rejection, safety, latency)."""
    import json

    from assistant.matcher.evaluate import QueryFileError, evaluate, format_report

    try:
        summary, outcomes = evaluate(queries)
    except (OSError, QueryFileError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(json.dumps(summary) if as_json else format_report(summary, outcomes))


@app.command("eval-sms")
def eval_sms(
    scenarios: Annotated[Path, typer.Argument(help="TSV: id, lang, messages, expect")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Score the SMS guide end to end on conversations, in a scratch database with demo data."""
    import json
    import tempfile

    from assistant.clock import utcnow
    from assistant.db import make_engine
    from assistant.db import migrate as run_migrations
    from assistant.demo import load_demo
    from assistant.sms.scenarios import ScenarioFileError, evaluate, format_report, read_scenarios

    try:
        found = read_scenarios(scenarios)
    except (OSError, ScenarioFileError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/scenarios.db"
        run_migrations(url)
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                load_demo(session, password="scenario-runs-only")
                summary, results = evaluate(
                    session, found, pho_phone=get_settings().pho_phone_number, start=utcnow()
                )
        finally:
            engine.dispose()
    typer.echo(json.dumps(summary) if as_json else format_report(summary, results))


def main() -> None:
    app(prog_name="python -m assistant")


if __name__ == "__main__":
    main()
