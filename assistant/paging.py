"""Long lists a page at a time: ``?page=N`` (1 first), fifty rows a page by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")

PER_PAGE = 50
LAST_PAGE = 10_000  # beyond any real list; keeps OFFSET small and the number an int


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def page_number(raw: object) -> int:
    """A page number from a query string: anything unreadable is the first page."""
    try:
        number = int(str(raw))
    except ValueError:
        return 1
    return min(max(number, 1), LAST_PAGE)


def fetch(
    session: Session, stmt: SelectOfScalar[T], *, number: int = 1, per_page: int = PER_PAGE
) -> Page[T]:
    """One page of ``stmt`` (already ordered), and whether another follows."""
    number = page_number(number)
    rows = list(session.exec(stmt.offset((number - 1) * per_page).limit(per_page + 1)))
    return Page(items=rows[:per_page], number=number, has_next=len(rows) > per_page)
