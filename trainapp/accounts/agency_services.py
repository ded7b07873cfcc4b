"""Rules for agencies: names, kinds, email domains, partner status."""

import re

import sqlalchemy as sa

from trainapp import audit
from trainapp.accounts.access import require_coordinator
from trainapp.accounts.models import Agency, AgencyDomain, AgencyKind, User
from trainapp.errors import DomainError
from trainapp.extensions import db

_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def parse_domains(text: str) -> list[str]:
    """Split a list typed by a person (commas, spaces or lines) into checked domains."""
    domains = []
    for raw in re.split(r"[\s,;]+", text.strip().lower()):
        domain = raw.removeprefix("@")
        if not domain:
            continue
        if not _DOMAIN.match(domain):
            raise DomainError(
                f"{raw!r} is not an email domain: enter domains like police.example.org",
                "domains",
            )
        if domain not in domains:
            domains.append(domain)
    return domains


def _ensure_name_free(name: str, agency_id: int | None = None) -> None:
    query = sa.select(Agency.id).where(sa.func.lower(Agency.name) == name.lower())
    if agency_id is not None:
        query = query.where(Agency.id != agency_id)
    if db.session.scalar(query) is not None:
        raise DomainError("An agency with this name already exists", "name")


def create_agency(*, by: User, name: str, kind: AgencyKind, domains: list[str], is_partner: bool) -> Agency:
    """Add an agency; its domains let its staff register themselves."""
    require_coordinator(by, "manage agencies")
    name = name.strip()
    _ensure_name_free(name)
    agency = Agency(
        name=name,
        kind=kind,
        is_partner=is_partner,
        domains=[AgencyDomain(domain=d) for d in domains],
    )
    db.session.add(agency)
    db.session.flush()
    audit.record(by, "agency.created", agency, after=agency.snapshot())
    return agency


def update_agency(
    agency: Agency, *, by: User, name: str, kind: AgencyKind, domains: list[str], is_partner: bool
) -> None:
    """Change an agency's details, recording what changed."""
    require_coordinator(by, "manage agencies")
    name = name.strip()
    _ensure_name_free(name, agency.id)
    before = agency.snapshot()
    agency.name, agency.kind, agency.is_partner = name, kind, is_partner
    kept = {entry.domain: entry for entry in agency.domains}
    agency.domains = [kept.get(d) or AgencyDomain(domain=d) for d in domains]
    old, new = audit.changes(before, agency.snapshot())
    if new:
        audit.record(by, "agency.updated", agency, before=old, after=new)


def set_agency_active(agency: Agency, *, by: User, active: bool) -> None:
    """Deactivate (hide from registration and new accounts) or reactivate an agency."""
    require_coordinator(by, "manage agencies")
    if agency.active == active:
        state = "active" if active else "deactivated"
        raise DomainError(f"This agency is already {state}")
    agency.active = active
    audit.record(
        by,
        "agency.reactivated" if active else "agency.deactivated",
        agency,
        before={"active": not active},
        after={"active": active},
    )
