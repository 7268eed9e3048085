"""Where people live (a suburb, fuzzily, or a postcode) and the practices nearest to them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from assistant.contacts.text import fold
from assistant.people.listing import fresh_since
from assistant.people.models import Practice

GAZETTEER = Path(__file__).resolve().parent / "suburbs.yaml"
_POSTCODE = re.compile(r"\b(\d{4})\b")
MIN_SCORE = 85
CITY = "Christchurch Central"  # the place the city's own name stands for


@dataclass(frozen=True)
class Place:
    name: str
    postcode: str
    lat: float
    lon: float
    aka: tuple[str, ...] = ()


def load_gazetteer(path: Path = GAZETTEER) -> tuple[Place, ...]:
    rows: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(
        Place(
            name=str(row["name"]),
            postcode=str(row["postcode"]),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            aka=tuple(str(a) for a in row.get("aka", ())),
        )
        for row in rows
    )


@cache
def gazetteer() -> tuple[Place, ...]:
    return load_gazetteer()


@cache
def _names() -> dict[str, Place]:
    names: dict[str, Place] = {}
    for place in gazetteer():
        for name in (place.name, *place.aka):
            names[fold(name)] = place
    return names


def check_gazetteer(path: Path = GAZETTEER) -> list[str]:
    """Problems in the gazetteer file, as "path:line: message" (for `assistant check`)."""
    shown = path.relative_to(path.parents[2]) if len(path.parents) > 2 else path
    try:
        places = load_gazetteer(path)
    except Exception as exc:  # a broken file is reported, not raised
        return [f"{shown}:1: cannot read: {exc}"]
    lines = path.read_text(encoding="utf-8").splitlines()

    def line_of(name: str) -> int:
        for number, line in enumerate(lines, start=1):
            if f"name: {name}," in line or f"name: {name}}}" in line:
                return number
        return 1

    problems = []
    seen: set[str] = set()
    for place in places:
        where = f"{shown}:{line_of(place.name)}"
        if not re.fullmatch(r"\d{4}", place.postcode):
            problems.append(f"{where}: postcode {place.postcode!r} is not four digits")
        if not (-45 < place.lat < -42 and 170 < place.lon < 174):
            problems.append(f"{where}: {place.name} is not in Canterbury")
        for name in (place.name, *place.aka):
            key = fold(name)
            if key in seen:
                problems.append(f"{where}: {name!r} is listed twice")
            seen.add(key)
    return problems


def find_place(text: str) -> Place | None:
    """The place a message names anywhere in it: a postcode (the centre of the places sharing
    it), a suburb or another name for it in any script, or a suburb misspelt by a letter or two.
    The longest name wins ("Upper Riccarton" over "Riccarton")."""
    code = _POSTCODE.search(text)
    if code:
        same = [p for p in gazetteer() if p.postcode == code.group(1)]
        if same:
            lat = sum(p.lat for p in same) / len(same)
            lon = sum(p.lon for p in same) / len(same)
            return Place(name=code.group(1), postcode=code.group(1), lat=lat, lon=lon)
    query = fold(text)
    if len(query) < 3:
        return None
    names = _names()
    if query in names:
        return names[query]
    tokens = query.split()
    grams = [
        " ".join(tokens[i : i + size]) for size in (3, 2, 1) for i in range(len(tokens) - size + 1)
    ]
    unspaced = "".join(tokens)
    named = [gram for gram in grams if gram in names] + [
        name for name, joined in _unspaced_other_script_names() if joined in unspaced
    ]
    # A suburb says more than the city's name beside it ("new in Christchurch, living in
    # Riccarton"); then the longest name ("Upper Riccarton" over "Riccarton").
    suburbs = [name for name in named if names[name].name != CITY] or named
    if suburbs:
        return names[max(suburbs, key=len)]
    best: tuple[float, str] | None = None
    for gram in grams:
        if len(gram) < 5:
            continue
        same_size = _latin_names_of_size(gram.count(" ") + 1)
        found = process.extractOne(gram, same_size, scorer=fuzz.ratio, score_cutoff=MIN_SCORE)
        if found is not None and (best is None or found[1] > best[0]):
            best = (found[1], found[0])
    # Other alphabets (Devanagari, Arabic) are spelt many ways too: a word or two close to
    # one of the names people use ("हाल्सवेल" for "हैल्सवेल"). Chinese names are matched whole.
    for gram in grams:
        if gram.isascii() or _HAN.search(gram) or len(gram.replace(" ", "")) < 5:
            continue
        found = process.extractOne(
            gram.replace(" ", ""), _other_script_names(), scorer=fuzz.ratio, score_cutoff=MIN_SCORE
        )
        if found is not None and (best is None or found[1] > best[0]):
            best = (found[1], found[0])
    return names[_other_script_names_by_key().get(best[1], best[1])] if best else None


_HAN = re.compile(r"[\u3400-\u9fff]")


@cache
def _other_script_names_by_key() -> dict[str, str]:
    """Names in other alphabets (not Latin, not Chinese), without spaces, to their name."""
    return {
        name.replace(" ", ""): name
        for name in _names()
        if not name.isascii() and not _HAN.search(name)
    }


@cache
def _other_script_names() -> tuple[str, ...]:
    return tuple(_other_script_names_by_key())


@cache
def _unspaced_other_script_names() -> tuple[tuple[str, str], ...]:
    """Names not in Latin letters, each with its spaces taken out (looked for in a message
    with its own taken out: such scripts are often written without them)."""
    return tuple((n, n.replace(" ", "")) for n in _names() if not n.isascii())


@cache
def _latin_names_of_size(words: int) -> tuple[str, ...]:
    """Names in Latin letters of so many words, for matching a misspelt one of that length."""
    return tuple(n for n in _names() if n.isascii() and n.count(" ") + 1 == words)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class NearbyPractice:
    practice: Practice
    km: float


def _coordinates(practice: Practice) -> tuple[float, float] | None:
    if practice.latitude is not None and practice.longitude is not None:
        return practice.latitude, practice.longitude
    place = _names().get(fold(practice.suburb)) if practice.suburb else None
    return (place.lat, place.lon) if place else None


def _listed(now: datetime) -> SelectOfScalar[Practice]:
    """Active practices taking new patients, confirmed so in the last 30 days."""
    return select(Practice).where(
        Practice.active == True,  # noqa: E712
        Practice.accepting_new_patients == True,  # noqa: E712
        col(Practice.accepting_confirmed_at) >= fresh_since(now),
    )


def _nearest(
    practices: Iterable[Practice], lat: float, lon: float, limit: int
) -> list[NearbyPractice]:
    found = []
    for practice in practices:
        where = _coordinates(practice)
        if where is None:
            continue
        found.append(NearbyPractice(practice, distance_km(lat, lon, *where)))
    found.sort(key=lambda n: (n.km, n.practice.name))
    return found[:limit]


def nearby_practices(
    session: Session, *, place: Place, now: datetime, limit: int = 3
) -> list[NearbyPractice]:
    """Practices taking new patients (confirmed in the last 30 days), nearest first."""
    return _nearest(session.exec(_listed(now)), place.lat, place.lon, limit)


def practices_near_practice(
    session: Session, practice: Practice, *, now: datetime, limit: int = 2
) -> list[NearbyPractice]:
    """The listed practices nearest to ``practice`` (not itself): where else to ask."""
    where = _coordinates(practice)
    if where is None:
        return []
    stmt = _listed(now).where(Practice.id != practice.id)
    return _nearest(session.exec(stmt), *where, limit)


_DOLLARS = re.compile(r"\$\s?(\d+(?:\.\d{1,2})?)")


def adult_fee(fee_notes: str) -> str | None:
    """The lowest dollar amount in a practice's fee note ("$19.50"), if it names one."""
    amounts = [float(m) for m in _DOLLARS.findall(fee_notes)]
    if not amounts:
        return None
    low = min(amounts)
    return f"${low:.2f}".replace(".00", "")


def is_low_cost(fee_notes: str) -> bool:
    folded = fold(fee_notes)
    return "very low cost" in folded or "vlca" in folded or "low cost" in folded
