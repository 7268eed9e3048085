"""Demo data: practices, teams, agencies, users and portfolios (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from assistant.clock import utcnow
from assistant.enrolment.demo import load_demo_enrolment
from assistant.forms.reporting.dashboard_demo import load_demo_assessments
from assistant.pcw.demo import load_demo_pcw
from assistant.people.models import (
    Agency,
    PortfolioAssignment,
    Practice,
    Role,
    Team,
    TeamKind,
    User,
)
from assistant.security.passwords import hash_password
from assistant.support.demo import load_demo_tickets

# Other areas add "module:function" loaders taking (session) after the foundation's.
EXTRA_LOADERS: tuple[Callable[[Session], object], ...] = (
    load_demo_tickets,
    load_demo_pcw,
    load_demo_assessments,
    load_demo_enrolment,
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    note: str


PRACTICES = [
    # name, address, suburb, postcode, lat, lon, phone, accepting, fee notes, languages
    (
        "Riccarton Family Health",
        "12 Riccarton Road",
        "Riccarton",
        "8011",
        -43.5309,
        172.5986,
        "03 348 1000",
        True,
        "Adults $19-$45; under 14s free",
        "English, Hindi, Samoan",
    ),
    (
        "Linwood Community Practice",
        "400 Linwood Avenue",
        "Linwood",
        "8062",
        -43.5330,
        172.6830,
        "03 381 2000",
        True,
        "Very Low Cost Access: adults $19.50; under 14s free",
        "English, Tongan, Samoan, Te reo Māori",
    ),
    (
        "Papanui Medical Centre",
        "55 Papanui Road",
        "Papanui",
        "8053",
        -43.4990,
        172.6110,
        "03 352 3000",
        False,
        "Adults $52; under 14s free",
        "English, Mandarin",
    ),
    (
        "Hornby Health Hub",
        "8 Chappie Place",
        "Hornby",
        "8042",
        -43.5440,
        172.5260,
        "03 349 4000",
        True,
        "Very Low Cost Access: adults $19.50; CSC holders $19.50",
        "English, Arabic, Dari",
    ),
    (
        "Sydenham Doctors",
        "220 Colombo Street",
        "Sydenham",
        "8023",
        -43.5500,
        172.6360,
        "03 366 5000",
        True,
        "Adults $45; CSC holders $19.50; under 14s free",
        "English, Mandarin, Cantonese",
    ),
    (
        "Aranui Whānau Clinic",
        "20 Hampshire Street",
        "Aranui",
        "8061",
        -43.5160,
        172.7060,
        "03 388 6000",
        True,
        "Very Low Cost Access: adults $19.50; under 14s free",
        "English, Te reo Māori, Samoan",
    ),
]

TEAMS = [
    ("Practice Support Liaison", TeamKind.liaison),
    ("Practice Coordination", TeamKind.coordination),
    ("MSO Claims and Payments", TeamKind.mso),
    ("Partnership Community Workers", TeamKind.pcw),
]

AGENCIES = ["Pacific Trust Canterbury", "Te Whare Hauora Ōtautahi", "Refugee and Migrant Centre"]

# Days since each practice last confirmed its new-patient status (the SMS guide lists only
# practices confirmed in the last 30 days).
CONFIRMED_DAYS_AGO = {
    "Riccarton Family Health": 2,
    "Linwood Community Practice": 9,
    "Papanui Medical Centre": 20,
    "Hornby Health Hub": 0,
    "Sydenham Doctors": 5,
    "Aranui Whānau Clinic": 14,
}
# Practice staff who manage their practice (keep its new-patient status and fees current).
PRACTICE_MANAGERS = {"manager@papanui.example.nz", "manager@riccarton.example.nz"}

# email, name, role, practice name | team kind | agency name, locale
USERS: list[tuple[str, str, Role, str | None, str | None]] = [
    ("admin@pho.example.nz", "Aroha Admin", Role.admin, None, None),
    (
        "reception@riccarton.example.nz",
        "Rita Reception",
        Role.practice_staff,
        "practice:Riccarton Family Health",
        None,
    ),
    (
        "nurse@linwood.example.nz",
        "Lena Nurse",
        Role.practice_staff,
        "practice:Linwood Community Practice",
        None,
    ),
    (
        "manager@papanui.example.nz",
        "Paul Manager",
        Role.practice_staff,
        "practice:Papanui Medical Centre",
        None,
    ),
    (
        "manager@riccarton.example.nz",
        "Rangi Manager",
        Role.practice_staff,
        "practice:Riccarton Family Health",
        None,
    ),
    ("liaison.mere@pho.example.nz", "Mere Liaison", Role.liaison, "team:liaison", None),
    ("liaison.sione@pho.example.nz", "Sione Liaison", Role.liaison, "team:liaison", None),
    (
        "coordinator@pho.example.nz",
        "Chris Coordinator",
        Role.coordinator,
        "team:coordination",
        None,
    ),
    ("mso@pho.example.nz", "Morgan MSO", Role.mso, "team:mso", None),
    (
        "pcw.tala@pacifictrust.example.nz",
        "Tala PCW",
        Role.pcw,
        "agency:Pacific Trust Canterbury",
        "sm",
    ),
    (
        "pcw.amina@refugeecentre.example.nz",
        "Amina PCW",
        Role.pcw,
        "agency:Refugee and Migrant Centre",
        "ar",
    ),
]

# practice -> liaison email
PORTFOLIOS = {
    "Riccarton Family Health": "liaison.mere@pho.example.nz",
    "Papanui Medical Centre": "liaison.mere@pho.example.nz",
    "Hornby Health Hub": "liaison.mere@pho.example.nz",
    "Linwood Community Practice": "liaison.sione@pho.example.nz",
    "Sydenham Doctors": "liaison.sione@pho.example.nz",
    "Aranui Whānau Clinic": "liaison.sione@pho.example.nz",
}
COVERS = {
    "liaison.mere@pho.example.nz": "liaison.sione@pho.example.nz",
    "liaison.sione@pho.example.nz": "liaison.mere@pho.example.nz",
}


def load_people(session: Session, *, password: str) -> list[DemoLogin]:
    practices: dict[str, Practice] = {}
    for name, address, suburb, postcode, lat, lon, phone, accepting, fees, langs in PRACTICES:
        practice = session.exec(select(Practice).where(Practice.name == name)).first()
        if practice is None:
            practice = Practice(
                name=name,
                address=address,
                suburb=suburb,
                postcode=postcode,
                latitude=lat,
                longitude=lon,
                phone=phone,
                accepting_new_patients=accepting,
                fee_notes=fees,
                languages=langs,
                accepting_confirmed_at=utcnow() - timedelta(days=CONFIRMED_DAYS_AGO.get(name, 0)),
            )
            session.add(practice)
        practices[name] = practice
    teams: dict[str, Team] = {}
    for name, team_kind in TEAMS:
        team = session.exec(select(Team).where(Team.name == name)).first()
        if team is None:
            team = Team(name=name, kind=team_kind)
            session.add(team)
        teams[team_kind.value] = team
    agencies: dict[str, Agency] = {}
    for name in AGENCIES:
        agency = session.exec(select(Agency).where(Agency.name == name)).first()
        if agency is None:
            agency = Agency(name=name)
            session.add(agency)
        agencies[name] = agency
    session.commit()

    password_hash = hash_password(password)
    users: dict[str, User] = {}
    logins = []
    for email, name, role, belongs, locale in USERS:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(
                name=name,
                email=email,
                role=role,
                password_hash=password_hash,
                locale=locale,
                practice_manager=email in PRACTICE_MANAGERS,
            )
            if belongs:
                kind, _, key = belongs.partition(":")
                if kind == "practice":
                    user.practice_id = practices[key].id
                elif kind == "team":
                    user.team_id = teams[key].id
                else:
                    user.agency_id = agencies[key].id
            session.add(user)
        users[email] = user
        logins.append(DemoLogin(email, role.value, belongs.partition(":")[2] if belongs else ""))
    session.commit()
    for practice_name, email in PORTFOLIOS.items():
        practice_id = practices[practice_name].id
        assert practice_id is not None
        if session.get(PortfolioAssignment, practice_id) is None:
            liaison_id = users[email].id
            assert liaison_id is not None
            session.add(PortfolioAssignment(practice_id=practice_id, liaison_id=liaison_id))
    for email, cover in COVERS.items():
        if users[email].cover_id is None:
            users[email].cover_id = users[cover].id
            session.add(users[email])
    session.commit()
    return logins


def load_demo(session: Session, *, password: str) -> list[DemoLogin]:
    logins = load_people(session, password=password)
    for loader in EXTRA_LOADERS:
        loader(session)
    return logins


def is_empty(session: Session) -> bool:
    return session.exec(select(User)).first() is None
