"""Staff lists and leavers from a spreadsheet: check every row, show the plan, then apply it.

A preview reads the file, checks each row against the database as it is (people loaded by
email in chunks, agencies once) and stores the plan on a StaffImport. Applying checks the
stored rows again against the database as it is then, so a change made in between is never
overwritten blindly, and applies the valid rows in the caller's transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort

from trainapp import audit
from trainapp.accounts import services as accounts
from trainapp.accounts.models import Agency, Role, User
from trainapp.bookings import services as bookings
from trainapp.bookings.models import LIVE, Booking
from trainapp.catalogue.models import TrainingSession
from trainapp.db import rows_changed, utcnow
from trainapp.errors import DomainError, NotAllowed
from trainapp.extensions import db
from trainapp.people.models import ImportKind, StaffImport
from trainapp.people.reading import AGENCY, EMAIL, JOB_TITLE, NAME, ROLE, Row, csv_bytes, read_rows
from trainapp.text import has_line_breaks_or_controls, one_line

PREVIEW_LIFETIME = timedelta(minutes=60)
# How long a new person's set-your-password link works: long enough to come back from leave.
WELCOME_LINK_AGE = 7 * 24 * 3600
WELCOME_TEMPLATE = "staff_welcome"
LEAVER_REASON = "Left their agency"
CHUNK = 500
PLAN_VERSION = 1

CREATE, UPDATE, REACTIVATE, UNCHANGED, ERROR, LEAVE = "create", "update", "reactivate", "unchanged", "error", "leave"
STAFF_OUTCOMES = (CREATE, UPDATE, UNCHANGED, ERROR)
LEAVER_OUTCOMES = (LEAVE, UNCHANGED, ERROR)
_INPUT_COLUMNS = (EMAIL, NAME, JOB_TITLE, AGENCY, ROLE)
_LONGEST = {NAME: 200, JOB_TITLE: 200}
_LABELS = {NAME: "Name", JOB_TITLE: "Job title", AGENCY: "Agency", ROLE: "Role"}


@dataclass(frozen=True)
class PlanRow:
    """One row of the preview, as a person reads it."""

    number: int
    outcome: str
    email: str
    name: str
    job_title: str
    agency: str
    role: str
    message: str
    # A leaver's places, waiting-list places and requests that applying will cancel.
    bookings: int = 0


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    reactivated: int = 0
    left: int = 0
    bookings_cancelled: int = 0
    skipped_errors: int = 0

    def sentence(self) -> str:
        """One line for the success banner, in GOV.UK style."""
        parts = []
        if self.created:
            parts.append(f"{_count(self.created, 'person', 'people')} added")
        if self.updated:
            reactivated = f" ({self.reactivated:,} reactivated)" if self.reactivated else ""
            parts.append(f"{self.updated:,} updated{reactivated}")
        if self.left:
            left = f"{_count(self.left, 'person', 'people')} deactivated"
            if self.bookings_cancelled:
                bookings = _count(self.bookings_cancelled, "future booking", "future bookings")
                left += f" and {bookings} cancelled"
            parts.append(left)
        text = ", ".join(parts) + "." if parts else "Nothing needed changing."
        if self.skipped_errors:
            rows = _count(self.skipped_errors, "row with errors was", "rows with errors were")
            text += f" {rows} not applied."
        return text[0].upper() + text[1:]


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# Checking rows --------------------------------------------------------------------------------


@dataclass
class _Checked:
    """A row once checked: what the preview shows and what applying it would do."""

    number: int
    outcome: str
    email: str
    name: str = ""
    job_title: str = ""
    agency: Agency | None = None
    role: Role | None = None
    message: str = ""
    user: User | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    bookings: list[int] = field(default_factory=list)

    def plan_row(self) -> list:
        return [
            self.number,
            self.outcome,
            self.email,
            self.name,
            self.job_title,
            self.agency.name if self.agency else "",
            self.role.label if self.role else "",
            self.message,
            len(self.bookings),
        ]


def _people_by_email(emails: Iterable[str]) -> dict[str, User]:
    """Everyone whose address is in the list, loaded a chunk of addresses at a time."""
    wanted = sorted(set(emails))
    found: dict[str, User] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for user in db.session.scalars(sa.select(User).where(User.email.in_(chunk))):
            found[user.email] = user
    return found


def _active_coordinator_ids() -> set[int]:
    return set(db.session.scalars(sa.select(User.id).where(User.role == Role.COORDINATOR, User.active.is_(True))))


def _role_named(text: str) -> Role | None:
    cleaned = " ".join(text.replace("_", " ").replace("-", " ").split()).lower()
    for role in Role:
        if cleaned in (role.value.replace("_", " "), role.label.lower()):
            return role
    return None


class _Rows:
    """What every row's check needs, loaded once for the whole file."""

    def __init__(self, rows: list[Row], *, by: User | None, agency: Agency | None):
        self.by = by
        self.lead_agency = by.agency if by is not None and by.is_agency_lead else None
        self.default_agency = self.lead_agency or agency
        self.agencies = {a.name.strip().lower(): a for a in db.session.scalars(sa.select(Agency))}
        self.emails: dict[int, str] = {}
        self.first_row: dict[str, int] = {}
        for row in rows:
            email = _email_key(row.get(EMAIL))
            if email is not None:
                self.emails[row.number] = email
        self.people = _people_by_email(self.emails.values())
        self.coordinators = _active_coordinator_ids()

    @property
    def is_lead(self) -> bool:
        return self.lead_agency is not None

    def email_problem(self, row: Row) -> str | None:
        """The row's email error (format, repeat), or None; remembers the first row of each email."""
        raw = row.get(EMAIL).strip()
        if not raw:
            return "Enter the email address"
        email = self.emails.get(row.number)
        if email is None:
            return f"{_quote(raw)} is not an email address in the correct format, like name@example.org"
        first = self.first_row.setdefault(email, row.number)
        if first != row.number:
            return f"Row {row.number} repeats the email on row {first}"
        return None

    def not_theirs(self, person: User) -> bool:
        return self.lead_agency is not None and person.agency_id != self.lead_agency.id


def _email_key(raw: str) -> str | None:
    raw = raw.strip()
    if not raw or any(character.isspace() for character in raw):
        return None
    try:
        return accounts.normalise_email(raw)
    except DomainError:
        return None


def _quote(text: str) -> str:
    shown = text if len(text) <= 60 else text[:59] + "…"
    return f"‘{shown}’"


def _check_staff(rows: list[Row], *, by: User | None, agency: Agency | None) -> list[_Checked]:
    context = _Rows(rows, by=by, agency=agency)
    coordinators_left = set(context.coordinators)
    return [_check_staff_row(row, context, coordinators_left) for row in rows]


def _check_staff_row(row: Row, context: _Rows, coordinators_left: set[int]) -> _Checked:
    name, job_title = row.get(NAME).strip(), row.get(JOB_TITLE).strip()
    email = context.emails.get(row.number, row.get(EMAIL).strip())
    checked = _Checked(row.number, ERROR, email, name=name, job_title=job_title)
    problem = row.problem or context.email_problem(row) or _text_problem(name, job_title)
    if problem:
        checked.message = problem
        return checked
    person = context.people.get(email)
    if person is not None and context.not_theirs(person):
        checked.message = "This email belongs to someone in another agency"
        return checked
    if person is not None and person.anonymised_at is not None:
        checked.message = "This account was anonymised when its retention period ended and cannot be reopened"
        return checked
    target_agency, problem = _agency_for(row, person, context)
    if problem:
        checked.message = problem
        return checked
    role, problem = _role_for(row, person, context, target_agency)
    if problem:
        checked.message = problem
        return checked
    checked.agency, checked.role = target_agency, role
    agency_is_new = person is None or target_agency is not person.agency
    if agency_is_new and (problem := _domain_problem(email, target_agency)):
        checked.message = problem
        return checked
    if person is None:
        checked.outcome = CREATE
        return checked
    checked.user = person
    if person.id in coordinators_left and role != Role.COORDINATOR:
        if len(coordinators_left) == 1:
            checked.message = "The service needs at least one active coordinator"
            return checked
        coordinators_left.discard(person.id)
    if role == Role.COORDINATOR and person.active:
        coordinators_left.add(person.id)
    _describe_changes(checked, person)
    return checked


def _text_problem(name: str, job_title: str) -> str | None:
    if not name:
        return "Enter the person’s full name"
    for column, value in ((NAME, name), (JOB_TITLE, job_title)):
        if has_line_breaks_or_controls(value):
            return f"{_LABELS[column]} must be on one line, with no tabs or other special characters"
        if len(value) > _LONGEST[column]:
            return f"{_LABELS[column]} must be {_LONGEST[column]} characters or fewer"
    return None


def _agency_for(row: Row, person: User | None, context: _Rows) -> tuple[Agency | None, str | None]:
    typed = row.get(AGENCY).strip()
    if typed:
        agency = context.agencies.get(typed.lower())
        if agency is None:
            return None, f"There is no agency called {_quote(typed)}"
        if context.lead_agency is not None and agency.id != context.lead_agency.id:
            return None, f"You can only add staff to {context.lead_agency.name}"
        if not agency.active and (person is None or person.agency_id != agency.id):
            return None, f"{agency.name} is no longer active"
        return agency, None
    if person is not None:
        return person.agency, None
    if context.default_agency is None:
        return None, "Enter the person’s agency, or choose an agency for the whole file"
    if not context.default_agency.active:
        return None, f"{context.default_agency.name} is no longer active"
    return context.default_agency, None


def _role_for(row: Row, person: User | None, context: _Rows, agency: Agency | None) -> tuple[Role | None, str | None]:
    typed = row.get(ROLE).strip()
    role = _role_named(typed) if typed else (person.role if person is not None else Role.STAFF)
    if role is None:
        return None, f"{_quote(typed)} is not a role: use Staff, Trainer, Agency lead or Coordinator"
    if context.is_lead:
        if role != Role.STAFF and (person is None or role != person.role):
            return None, "You can only give people the Staff role"
        if person is not None and role != person.role:
            return None, "An agency lead cannot change this person’s role"
    if role == Role.AGENCY_LEAD and agency is None:
        return None, "An agency lead must belong to an agency"
    return role, None


def _domain_problem(email: str, agency: Agency | None) -> str | None:
    if agency is None or not agency.domains:
        return None
    domain = accounts.domain_of(email)
    if domain in agency.domain_names:
        return None
    return f"{agency.name} does not use the email domain {domain} (it uses {', '.join(agency.domain_names)})"


def _describe_changes(checked: _Checked, person: User) -> None:
    wanted = {
        NAME: checked.name,
        JOB_TITLE: checked.job_title,
        AGENCY: checked.agency,
        ROLE: checked.role,
    }
    current = {NAME: person.name, JOB_TITLE: person.job_title, AGENCY: person.agency, ROLE: person.role}
    checked.changes = {key: (current[key], value) for key, value in wanted.items() if value != current[key]}
    notes = [f"{_LABELS[key]}: {_shown(old)} → {_shown(new)}" for key, (old, new) in checked.changes.items()]
    if not person.active:
        checked.outcome = REACTIVATE
        notes.insert(0, "Account will be reactivated")
    elif checked.changes:
        checked.outcome = UPDATE
    else:
        checked.outcome = UNCHANGED
    checked.message = "; ".join(notes)


def _shown(value: object) -> str:
    if isinstance(value, Agency):
        return value.name
    if isinstance(value, Role):
        return value.label
    return str(value) if value else "(none)"


def _check_leavers(rows: list[Row], *, by: User | None, now: datetime) -> list[_Checked]:
    context = _Rows(rows, by=by, agency=None)
    future = _future_bookings([person.id for person in context.people.values() if person.active], now)
    coordinators_left = set(context.coordinators)
    checked_rows = []
    for row in rows:
        email = context.emails.get(row.number, row.get(EMAIL).strip())
        checked = _Checked(row.number, ERROR, email)
        checked_rows.append(checked)
        if problem := row.problem or context.email_problem(row):
            checked.message = problem
            continue
        person = context.people.get(email)
        if person is None:
            checked.message = "No account has this email"
            continue
        checked.name, checked.job_title, checked.agency, checked.role = (
            person.name,
            person.job_title,
            person.agency,
            person.role,
        )
        if context.not_theirs(person):
            checked.message = "This person is not in your agency"
            continue
        if not person.active:
            checked.outcome, checked.message = UNCHANGED, "Already left"
            continue
        if person.id in coordinators_left:
            if len(coordinators_left) == 1:
                checked.message = "The service needs at least one active coordinator"
                continue
            coordinators_left.discard(person.id)
        checked.user, checked.outcome = person, LEAVE
        checked.bookings = future.get(person.id, [])
        checked.message = (
            f"{_count(len(checked.bookings), 'future booking', 'future bookings')} will be cancelled"
            if checked.bookings
            else "No future bookings"
        )
    return checked_rows


def _future_bookings(user_ids: list[int], now: datetime) -> dict[int, list[int]]:
    """Each person's places, waiting-list places and requests for sessions not yet started."""
    found: dict[int, list[int]] = {}
    for start in range(0, len(user_ids), CHUNK):
        chunk = user_ids[start : start + CHUNK]
        query = (
            sa.select(Booking.user_id, Booking.id)
            .join(TrainingSession, TrainingSession.id == Booking.session_id)
            .where(Booking.user_id.in_(chunk), Booking.status.in_(LIVE), TrainingSession.starts_at > now)
            .order_by(TrainingSession.starts_at, Booking.id)
        )
        for user_id, booking_id in db.session.execute(query):
            found.setdefault(user_id, []).append(booking_id)
    return found


# Previews ---------------------------------------------------------------------------------------


def _required_columns(kind: ImportKind) -> tuple[str, ...]:
    return (EMAIL,) if kind == ImportKind.LEAVERS else (NAME, EMAIL, JOB_TITLE)


def _optional_columns(kind: ImportKind) -> tuple[str, ...]:
    return () if kind == ImportKind.LEAVERS else (AGENCY, ROLE)


def _check(
    kind: ImportKind, rows: list[Row], *, by: User | None, agency: Agency | None, now: datetime
) -> list[_Checked]:
    if kind == ImportKind.LEAVERS:
        return _check_leavers(rows, by=by, now=now)
    return _check_staff(rows, by=by, agency=agency)


def _plan(kind: ImportKind, rows: list[Row], checked: list[_Checked]) -> dict[str, Any]:
    return {
        "version": PLAN_VERSION,
        "rows": [entry.plan_row() for entry in checked],
        # The cells as uploaded, checked again when the plan is applied.
        "input": [[row.number, *(row.get(column) for column in _INPUT_COLUMNS), row.problem] for row in rows],
    }


def _rows_from_plan(plan: dict[str, Any]) -> list[Row]:
    return [Row(entry[0], dict(zip(_INPUT_COLUMNS, entry[1:6], strict=True)), entry[6]) for entry in plan["input"]]


def _importer_agency(by: User, agency: Agency | None) -> Agency | None:
    """The agency a file's rows default to; refuses anyone who may not import staff."""
    if by.is_coordinator:
        return agency
    if by.is_agency_lead and by.agency is not None:
        return by.agency
    raise NotAllowed("Only a coordinator or an agency lead can upload a staff list")


def check_file(
    *, filename: str, data: bytes, kind: ImportKind, by: User | None, agency: Agency | None, now: datetime
) -> tuple[list[Row], list[_Checked]]:
    """Read a file and check every row, changing nothing (``by`` None: the system itself)."""
    rows = read_rows(filename, data, required=_required_columns(kind), optional=_optional_columns(kind))
    return rows, _check(kind, rows, by=by, agency=agency, now=now)


def preview_import(
    *,
    by: User,
    filename: str,
    data: bytes,
    kind: ImportKind,
    agency: Agency | None,
    now: datetime | None = None,
) -> StaffImport:
    """Read and check an uploaded list and keep the plan to show, changing no one yet."""
    now = now or utcnow()
    agency = _importer_agency(by, agency)
    rows, checked = check_file(filename=filename, data=data, kind=kind, by=by, agency=agency, now=now)
    staff_import = StaffImport(
        uploaded_by=by,
        agency=agency,
        kind=kind,
        filename=(one_line(filename).strip() or "upload")[-255:],
        plan=_plan(kind, rows, checked),
        created_at=now,
        expires_at=now + PREVIEW_LIFETIME,
    )
    db.session.add(staff_import)
    db.session.flush()
    return staff_import


def find_import(import_id: int, *, by: User, now: datetime | None = None) -> StaffImport:
    """The uploader's own preview, still waiting: 404 for anyone else's or an applied one."""
    now = now or utcnow()
    staff_import = db.session.get(StaffImport, import_id)
    if staff_import is None or staff_import.uploaded_by_id != by.id or staff_import.applied_at is not None:
        abort(404)
    if staff_import.expires_at <= now:
        raise DomainError("This preview has expired: upload the file again")
    return staff_import


def plan_counts(staff_import: StaffImport) -> dict[str, int]:
    """How many rows have each outcome (a reactivation counts as an update); for leavers also
    how many future bookings applying cancels ("bookings")."""
    rows = staff_import.plan["rows"]
    counts = count_outcomes(staff_import.kind, (entry[1] for entry in rows))
    if staff_import.kind == ImportKind.LEAVERS:
        counts["bookings"] = sum(_plan_row(entry).bookings for entry in rows if entry[1] == LEAVE)
    return counts


def count_outcomes(kind: ImportKind, outcomes: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(LEAVER_OUTCOMES if kind == ImportKind.LEAVERS else STAFF_OUTCOMES, 0)
    for outcome in outcomes:
        counts[UPDATE if outcome == REACTIVATE else outcome] += 1
    return counts


def summary_lines(kind: ImportKind, rows: list[PlanRow]) -> list[str]:
    """The preview in words: the counts, then each row with an error."""
    counts = count_outcomes(kind, (row.outcome for row in rows))
    if kind == ImportKind.LEAVERS:
        cancelled = sum(row.bookings for row in rows if row.outcome == LEAVE)
        parts = [
            f"{counts[LEAVE]:,} to deactivate ({_count(cancelled, 'future booking', 'future bookings')} to cancel)",
            f"{counts[UNCHANGED]:,} already left",
        ]
    else:
        parts = [f"{counts[CREATE]:,} to add", f"{counts[UPDATE]:,} to update", f"{counts[UNCHANGED]:,} unchanged"]
    parts.append(f"{_count(counts[ERROR], 'row', 'rows')} with errors")
    lines = [_join(parts) + "."]
    for row in rows:
        if row.outcome == ERROR:
            prefix = f"Row {row.number}"
            lines.append(row.message if row.message.startswith(prefix + " ") else f"{prefix}: {row.message}")
    return lines


def plan_rows_of(checked: list[_Checked]) -> list[PlanRow]:
    """Checked rows as the preview shows them (for the command line, which keeps no preview)."""
    return [_plan_row(entry.plan_row()) for entry in checked]


def plan_rows(staff_import: StaffImport, *, outcome: str | None = None) -> list[PlanRow]:
    """The preview's rows in file order, or those with one outcome ("update" includes reactivations)."""
    wanted = {outcome, REACTIVATE} if outcome == UPDATE else {outcome}
    return [_plan_row(entry) for entry in staff_import.plan["rows"] if outcome is None or entry[1] in wanted]


# Said of most rows, so written here once rather than in every stored row of a 10,000-row plan.
_USUAL_MESSAGES = {CREATE: "New account: a set-your-password email will be sent", UNCHANGED: "Already up to date"}


def _plan_row(entry: list) -> PlanRow:
    row = PlanRow(*entry)
    if not row.message and row.outcome in _USUAL_MESSAGES:
        return replace(row, message=_USUAL_MESSAGES[row.outcome])
    return row


def template_csv() -> bytes:
    """A file to fill in: the headings the import reads and one example row."""
    return csv_bytes(
        [
            ["Full name", "Email address", "Job title", "Agency", "Role"],
            ["Sam Example", "sam.example@agency.example.org", "Support worker", "", "Staff"],
        ]
    )


# Applying ---------------------------------------------------------------------------------------


def apply_import(import_id: int, *, by: User, apply_valid: bool, now: datetime | None = None) -> ImportResult:
    """Apply a previewed list once: a second submit finds it applied and changes nothing."""
    now = now or utcnow()
    staff_import = db.session.scalar(sa.select(StaffImport).where(StaffImport.id == import_id).with_for_update())
    if staff_import is None or staff_import.uploaded_by_id != by.id:
        abort(404)
    if staff_import.applied_at is not None:
        raise DomainError("This list has already been applied")
    if staff_import.expires_at <= now:
        raise DomainError("This preview has expired: upload the file again")
    claimed = db.session.execute(
        sa.update(StaffImport)
        .where(StaffImport.id == import_id, StaffImport.applied_at.is_(None))
        .values(applied_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(claimed) != 1:
        raise DomainError("This list has already been applied")
    db.session.refresh(staff_import)
    agency = _importer_agency(by, staff_import.agency)
    rows = _rows_from_plan(staff_import.plan)
    checked = _check(staff_import.kind, rows, by=by, agency=agency, now=now)
    return apply_checked(staff_import.kind, checked, by=by, apply_valid=apply_valid, now=now)


def apply_checked(
    kind: ImportKind, checked: list[_Checked], *, by: User | None, apply_valid: bool, now: datetime
) -> ImportResult:
    """Apply the valid rows of a checked list in the caller's transaction; flushes, never commits."""
    errors = sum(entry.outcome == ERROR for entry in checked)
    if errors and not apply_valid:
        raise DomainError(
            f"{_count(errors, 'row has', 'rows have')} errors: correct the file and upload it again, "
            "or choose to add only the rows without errors",
            "apply_valid",
        )
    result = ImportResult(skipped_errors=errors)
    if kind == ImportKind.LEAVERS:
        _apply_leavers(checked, by=by, now=now, result=result)
    else:
        _apply_staff(checked, by=by, now=now, result=result)
    db.session.flush()
    return result


def _apply_staff(checked: list[_Checked], *, by: User | None, now: datetime, result: ImportResult) -> None:
    created = []
    for entry in checked:
        if entry.outcome == CREATE:
            assert entry.role is not None
            created.append(
                accounts.new_account(
                    email=entry.email,
                    name=entry.name,
                    job_title=entry.job_title,
                    role=entry.role,
                    agency=entry.agency,
                    password_hash=accounts.unusable_password_hash(),
                )
            )
    db.session.flush()
    for user in created:
        audit.record(by, "user.created", user, after=user.snapshot(), reason="staff import", at=now)
    accounts.send_password_links(created, template=WELCOME_TEMPLATE, max_age=WELCOME_LINK_AGE)
    result.created = len(created)
    for entry in checked:
        if entry.outcome not in (UPDATE, REACTIVATE) or entry.user is None:
            continue
        person = entry.user
        if entry.changes:
            before = person.snapshot()
            person.name, person.job_title = entry.name, entry.job_title
            assert entry.role is not None
            person.role, person.agency = entry.role, entry.agency
            person.agency_id = entry.agency.id if entry.agency else None
            old, new = audit.changes(before, person.snapshot())
            audit.record(by, "user.updated", person, before=old, after=new, reason="staff import", at=now)
        if entry.outcome == REACTIVATE:
            accounts.reactivate_user(person, by=by)
            result.reactivated += 1
        result.updated += 1


def _apply_leavers(checked: list[_Checked], *, by: User | None, now: datetime, result: ImportResult) -> None:
    for entry in checked:
        if entry.outcome != LEAVE or entry.user is None:
            continue
        for booking_id in entry.bookings:
            bookings.cancel_booking(booking_id, by=by, reason=LEAVER_REASON, now=now)
            result.bookings_cancelled += 1
        accounts.deactivate_user(entry.user, by=by)
        result.left += 1


# Housekeeping ---------------------------------------------------------------------------------


def forget_old_previews(now: datetime | None = None) -> int:
    """Remove previews a day after they expired or were applied: their rows name people."""
    now = now or utcnow()
    result = db.session.execute(
        sa.delete(StaffImport).where(
            sa.or_(
                StaffImport.expires_at < now - timedelta(days=1),
                StaffImport.applied_at < now - timedelta(days=1),
            )
        )
    )
    return rows_changed(result)
