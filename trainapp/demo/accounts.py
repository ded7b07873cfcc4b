"""Demo agencies and people: a police force, NHS trusts sharing one domain, the council..."""

import sqlalchemy as sa

from trainapp.accounts.models import Agency, AgencyDomain, AgencyKind, Role, User
from trainapp.accounts.passwords import hash_password
from trainapp.extensions import db

DEMO_PASSWORD = "harbour-lights-training"  # noqa: S105 - printed for the demo on purpose

NHS_DOMAIN = "nhs.example.net"

AGENCIES = [
    ("Wessex Police", AgencyKind.POLICE, ["wessex.police.example.org"], True),
    ("Bourne Valley Hospitals NHS Foundation Trust", AgencyKind.NHS, [NHS_DOMAIN], True),
    ("Harbourside Community Health NHS Trust", AgencyKind.NHS, [NHS_DOMAIN], True),
    ("South Coast Ambulance Service NHS Trust", AgencyKind.AMBULANCE, [NHS_DOMAIN], True),
    ("Bourne and Harbour Council", AgencyKind.COUNCIL, ["council.example.org"], True),
    ("Probation Service, Wessex", AgencyKind.PROBATION, ["probation.example.org"], True),
    ("Wessex Fire and Rescue Service", AgencyKind.FIRE, ["fire.example.org"], True),
    ("Harbour Homes Housing Association", AgencyKind.HOUSING, ["harbourhomes.example.org"], True),
    ("Safe Harbour Domestic Abuse Service", AgencyKind.VOLUNTARY, ["safeharbour.example.org"], True),
    ("Bright Futures Women's Aid", AgencyKind.VOLUNTARY, ["brightfutures.example.org"], True),
    ("Bourne Academies Trust", AgencyKind.EDUCATION, ["bourneacademies.example.org"], True),
    ("Downland District Council", AgencyKind.COUNCIL, ["downland.example.org"], False),
]

# (name, email, role, agency, job title)
NAMED_PEOPLE = [
    (
        "Priya Shah",
        "coordinator@council.example.org",
        Role.COORDINATOR,
        "Bourne and Harbour Council",
        "Community Safety Partnership Training Lead",
    ),
    (
        "Tom Okafor",
        "trainer.okafor@council.example.org",
        Role.TRAINER,
        "Bourne and Harbour Council",
        "Domestic Abuse Trainer",
    ),
    (
        "Helen Marsh",
        "trainer.marsh@safeharbour.example.org",
        Role.TRAINER,
        "Safe Harbour Domestic Abuse Service",
        "Up2U Practitioner and Trainer",
    ),
    (
        "Gareth Lloyd",
        "trainer.lloyd@nhs.example.net",
        Role.TRAINER,
        "Harbourside Community Health NHS Trust",
        "Safeguarding Trainer",
    ),
    (
        "Aisha Rahman",
        "trainer.rahman@brightfutures.example.org",
        Role.TRAINER,
        "Bright Futures Women's Aid",
        "Healthy Relationships Facilitator",
    ),
    (
        "Mark Fielding",
        "lead@wessex.police.example.org",
        Role.AGENCY_LEAD,
        "Wessex Police",
        "Learning and Development Manager",
    ),
    (
        "Sophie Turner",
        "lead@safeharbour.example.org",
        Role.AGENCY_LEAD,
        "Safe Harbour Domestic Abuse Service",
        "Service Manager",
    ),
]

FIRST_NAMES = [
    "Amelia",
    "Ben",
    "Chloe",
    "Daniel",
    "Ella",
    "Faisal",
    "Grace",
    "Harry",
    "Isla",
    "Jack",
    "Kavita",
    "Liam",
    "Megan",
    "Nathan",
    "Olivia",
    "Patrick",
    "Rosie",
    "Samuel",
    "Tara",
    "Usman",
]
LAST_NAMES = [
    "Adams",
    "Bennett",
    "Clarke",
    "Davies",
    "Evans",
    "Fraser",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Nolan",
    "Owen",
    "Patel",
    "Quinn",
    "Roberts",
    "Smith",
]
JOB_TITLES = {
    AgencyKind.POLICE: ["Police Constable", "Detective Constable", "Domestic Abuse Officer"],
    AgencyKind.NHS: ["Staff Nurse", "Health Visitor", "Safeguarding Nurse", "Midwife"],
    AgencyKind.AMBULANCE: ["Paramedic", "Emergency Care Assistant"],
    AgencyKind.COUNCIL: ["Social Worker", "Family Support Worker", "ASB Officer"],
    AgencyKind.PROBATION: ["Probation Officer", "Probation Services Officer"],
    AgencyKind.FIRE: ["Firefighter", "Home Safety Advisor"],
    AgencyKind.HOUSING: ["Housing Officer", "Tenancy Support Worker"],
    AgencyKind.VOLUNTARY: ["IDVA", "Outreach Worker", "Refuge Support Worker"],
    AgencyKind.EDUCATION: ["Designated Safeguarding Lead", "Teaching Assistant"],
}
STAFF_PER_AGENCY = 5


def _agencies() -> dict[str, Agency]:
    existing = {a.name: a for a in db.session.scalars(sa.select(Agency))}
    for name, kind, domains, partner in AGENCIES:
        if name not in existing:
            agency = Agency(
                name=name,
                kind=kind,
                is_partner=partner,
                domains=[AgencyDomain(domain=d) for d in domains],
            )
            db.session.add(agency)
            existing[name] = agency
    db.session.flush()
    return existing


def _staff_rows(agencies: dict[str, Agency]) -> list[tuple[str, str, Role, str, str]]:
    rows = []
    index = 0
    for name, kind, domains, _partner in AGENCIES:
        for n in range(STAFF_PER_AGENCY):
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
            index += 1
            email = f"{first}.{last}{n + 1}@{domains[0]}".lower()
            titles = JOB_TITLES[kind]
            rows.append((f"{first} {last}", email, Role.STAFF, name, titles[n % len(titles)]))
    return rows


def load() -> list[tuple[str, str]]:
    """Agencies and people; returns the logins worth printing."""
    agencies = _agencies()
    existing = set(db.session.scalars(sa.select(User.email)))
    password_hash = None
    people = NAMED_PEOPLE + _staff_rows(agencies)
    for name, email, role, agency_name, job_title in people:
        if email in existing:
            continue
        password_hash = password_hash or hash_password(DEMO_PASSWORD)
        db.session.add(
            User(
                email=email,
                name=name,
                role=role,
                agency=agencies[agency_name],
                job_title=job_title,
                password_hash=password_hash,
            )
        )
    db.session.flush()
    staff_sample = [row for row in people if row[2] == Role.STAFF][:3]
    return [(row[2].label, row[1]) for row in NAMED_PEOPLE + staff_sample]
