"""Command-line tasks: ``flask --app trainapp <command>``."""

import sys

import click
from flask import Flask, current_app

from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.people.cli import people_group


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(jobs_group)
    app.cli.add_command(retention_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(people_group)


@click.group("users", help="Manage accounts.")
def users_group():
    pass


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_group.command("add")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["coordinator", "trainer", "agency_lead", "staff"]),
    help="What the person may do.",
)
@click.option("--agency", "agency_name", help="The agency's exact name.")
@click.option("--job-title", default="", help="The person's job title.")
def users_add(email, name, role, agency_name, job_title):
    """Create an account; the password is read from standard input when piped."""
    from trainapp.accounts import services
    from trainapp.accounts.models import Role
    from trainapp.forms import check_single_line

    for value, label in ((name, "Name"), (job_title, "Job title")):
        if problem := check_single_line(value, label):
            raise click.BadParameter(problem, param_hint="--name" if label == "Name" else "--job-title")
    try:
        agency = services.find_agency_by_name(agency_name) if agency_name else None
        user = services.create_user(
            email=email,
            name=name,
            role=Role(role),
            agency=agency,
            password=_read_password(),
            job_title=job_title,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.label.lower()} {user.email}.")


@click.group("outbox", help="Deliver queued email.")
def outbox_group():
    pass


@outbox_group.command("send")
@click.option("--limit", default=500, show_default=True, help="Most messages to send now.")
def outbox_send(limit):
    """Send every message that is due, keeping failures to retry; exits 1 if any failed."""
    from trainapp.notifications.services import send_due_messages

    report = send_due_messages(limit)
    _outbox_says(report.line(), ok=report.ok)
    if not report.ok:
        sys.exit(1)


@outbox_group.command("retry")
@click.option(
    "--failed", "include_failed", is_flag=True, help="Also queue failed messages again, each with a fresh retry period."
)
def outbox_retry(include_failed):
    """Make every waiting message due now (after mending the mail server, say)."""
    from trainapp.notifications.services import retry_messages

    report = retry_messages(include_failed=include_failed)
    db.session.commit()
    _outbox_says(report.line(), ok=True)


def _outbox_says(line: str, *, ok: bool) -> None:
    """One line for the terminal or cron mail, and the same for the log."""
    import logging

    click.echo(line)
    logging.getLogger("trainapp.outbox").log(logging.INFO if ok else logging.ERROR, line)


@click.group("jobs", help="Scheduled work, safe to run every few minutes.")
def jobs_group():
    pass


@jobs_group.command("run")
def jobs_run():
    """Run every scheduled job once; running it twice changes nothing more.

    Prints a line per step; exits 1 when a step failed or a message could not be delivered,
    so cron and monitoring notice.
    """
    from trainapp.jobs import run_all

    outcomes = run_all()
    for outcome in outcomes:
        click.echo(outcome.line())
    if any(outcome.failed for outcome in outcomes):
        sys.exit(1)


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="List who would be anonymised and what removed; change nothing.")
def retention_command(dry_run):
    """Apply the retention periods now, as `jobs run` does every time, or list what they would do.

    Exits 1 when a step failed.
    """
    from trainapp import jobs, retention

    if dry_run:
        for line in _retention_plan_lines(retention.plan()):
            click.echo(line)
        return
    outcomes = jobs.run_retention()
    for outcome in outcomes:
        click.echo(outcome.line())
    if any(outcome.failed for outcome in outcomes):
        sys.exit(1)


def _retention_plan_lines(plan) -> list[str]:
    from trainapp.retention import BATCH
    from trainapp.timezones import format_date

    def count(n: int, one: str, many: str) -> str:
        return f"{n:,} {one if n == 1 else many}"

    lines = [
        "Dry run: nothing has been changed.",
        f"Would anonymise {count(len(plan.people), 'person', 'people')} whose last session and sign-in "
        f"were before {format_date(plan.cutoffs.training_records)}" + (":" if plan.people else "."),
    ]
    lines += [
        f"  #{person.id} {person.name} <{person.email}>, last active {format_date(person.last_active_at)}"
        for person in plan.people
    ]
    if len(plan.people) > BATCH:
        lines.append(f"  (at most {BATCH:,} a run: the scheduled `jobs run` takes several runs)")
    lines.append(
        f"Would remove {count(plan.access_requests, 'access request', 'access requests')} made or decided "
        f"before {format_date(plan.cutoffs.access_requests)}."
    )
    lines.append(
        f"Would remove {count(plan.sign_in_records, 'sign-in record', 'sign-in records')} "
        f"from before {format_date(plan.cutoffs.sign_in_records)}."
    )
    lines.append(
        f"Would erase the access needs asked for on {count(plan.access_needs, 'booking', 'bookings')} "
        f"for sessions that ended before {format_date(plan.cutoffs.access_needs)}."
    )
    return lines


@click.command("demo-data")
@click.option(
    "--scale",
    type=click.Choice(["demo", "large"]),
    default="demo",
    show_default=True,
    help="demo: a small partnership to try things out; large: about 50 agencies, 20,000 people, "
    "9,000 sessions and 150,000 bookings over three years, for benchmarks.",
)
def demo_data_command(scale):
    """Create (or complete) a believable partnership and print its logins."""
    if scale == "large":
        _large_demo_data()
        return
    from trainapp.demo import load_demo_data

    logins, password = load_demo_data()
    db.session.commit()
    click.echo(f"Demo data is ready. Sign in at {current_app.config['BASE_URL']} as any of:")
    width = max(len(role) for role, _ in logins)
    for role, email in logins:
        click.echo(f"  {role.ljust(width)}  {email}")
    click.echo(f"Every demo account's password is: {password}")


def _large_demo_data() -> None:
    import time

    from trainapp.demo import DEMO_PASSWORD
    from trainapp.demo.large import LARGE, load_large
    from trainapp.timezones import format_date

    started = time.perf_counter()
    try:
        made = load_large(LARGE)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    seconds = time.perf_counter() - started
    click.echo(
        f"Made {made.agencies:,} agencies, {made.people:,} people, {made.courses} courses, "
        f"{made.sessions:,} sessions ({made.cancelled_sessions:,} cancelled) from {format_date(made.first_day)} "
        f"to {format_date(made.last_day)}, {made.bookings:,} bookings, {made.evaluations:,} evaluations, "
        f"{made.cost_lines:,} cost lines, {made.charges:,} charges and {made.coverage_targets:,} coverage "
        f"targets in {seconds:.1f} seconds."
    )
    for role, email in made.logins:
        click.echo(f"  {role}: {email}")
    click.echo(f"Every account's password is: {DEMO_PASSWORD}")
