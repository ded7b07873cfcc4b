"""``flask people import``: the staff-list and leavers upload, run on the server as the system."""

import sys
from pathlib import Path

import click

from trainapp.accounts.services import find_agency_by_name
from trainapp.db import utcnow
from trainapp.errors import DomainError
from trainapp.extensions import db
from trainapp.people import services
from trainapp.people.models import ImportKind
from trainapp.people.reading import UnreadableFile

ROW_ERRORS = 1
UNREADABLE = 2


@click.group("people", help="Add, update and deactivate people from a spreadsheet.")
def people_group():
    pass


@people_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", "agency_name", help="The agency of rows that do not name one (its exact name).")
@click.option("--dry-run", is_flag=True, help="Check the file and print what would change; change nothing.")
@click.option(
    "--leavers", is_flag=True, help="The file lists leavers: deactivate them and cancel their future bookings."
)
@click.option("--apply-valid", is_flag=True, help="Apply the rows without errors even when other rows have errors.")
def people_import(file: Path, agency_name: str | None, dry_run: bool, leavers: bool, apply_valid: bool):
    """Import a staff list (CSV or .xlsx) or, with --leavers, a list of leavers' emails.

    Prints the same summary as the upload page's preview. Exits 1 when a row has an error and
    --apply-valid was not given (nothing is applied), 2 when the file cannot be read.
    """
    kind = ImportKind.LEAVERS if leavers else ImportKind.STAFF
    now = utcnow()
    try:
        agency = find_agency_by_name(agency_name.strip()) if agency_name else None
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--agency") from error
    try:
        _, checked = services.check_file(
            filename=file.name, data=file.read_bytes(), kind=kind, by=None, agency=agency, now=now
        )
    except UnreadableFile as error:
        click.echo(f"Error: {file.name}: {error.message}", err=True)
        sys.exit(UNREADABLE)
    rows = services.plan_rows_of(checked)
    for line in services.summary_lines(kind, rows):
        click.echo(line)
    has_errors = any(row.outcome == services.ERROR for row in rows)
    if has_errors and not apply_valid:
        click.echo("Nothing has been changed. Correct the rows with errors, or add --apply-valid to apply the others.")
        sys.exit(ROW_ERRORS)
    if dry_run:
        click.echo("Dry run: nothing has been changed.")
        return
    try:
        result = services.apply_checked(kind, checked, by=None, apply_valid=apply_valid, now=now)
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(ROW_ERRORS)
    db.session.commit()
    click.echo(result.sentence())
