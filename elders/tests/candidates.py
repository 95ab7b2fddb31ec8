"""How many valid ID numbers agree with what someone can read (issue 8: masking that holds).

An 18-character resident ID number (GB 11643) is area code (6 digits) + birth date (8) +
sequence (3, odd for men) + a check character (ISO 7064 MOD 11-2 over the first 17 digits).
Given a mask ('*' for a hidden character), a set of possible birth dates, the sex and a set of
possible area codes, `count_candidates` counts every number consistent with all of them.

It does not list them: the check character depends only on the weighted digit sum mod 11,
so each part (area, date, sequence) is reduced to how many of its values give each residue
mod 11, and the three residue counts are convolved. `count_by_listing` lists them (small
cases only) to check the arithmetic.
"""

import datetime
import itertools
from collections.abc import Iterable
from functools import cache
from importlib import resources

from core.idnumbers import check_digit
from elders.models import age_on

# GB 11643: the weight of position i (1-based from the left) is 2^(18-i) mod 11.
WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
AREA, DATE, SEQUENCE, CHECK = slice(0, 6), slice(6, 14), slice(14, 17), 17


def check_char(residue: int) -> str:
    """The check character for a weighted sum ≡ `residue` (mod 11)."""
    value = (12 - residue) % 11
    return "X" if value == 10 else str(value)


def _fits(part: str, shown: str, start: int) -> bool:
    return all(m == "*" or m == c for m, c in zip(shown[start : start + len(part)], part, strict=True))


def _residue_counts(parts: Iterable[str], start: int) -> list[int]:
    counts = [0] * 11
    for part in parts:
        counts[sum(int(c) * WEIGHTS[start + i] for i, c in enumerate(part)) % 11] += 1
    return counts


def _areas(shown: str, areas) -> list[str]:
    return sorted(a for a in set(areas) if len(a) == 6 and a.isdigit() and _fits(a, shown, 0))


def _dates(shown: str, birth_dates) -> list[str]:
    texts = {f"{d:%Y%m%d}" for d in birth_dates}
    if shown[DATE] != "*" * 8:
        texts = {t for t in texts if _fits(t, shown, 6)}
    return sorted(texts)


def _sequences(shown: str, sex: str | None) -> list[str]:
    parity = {None: (0, 1), "M": (1,), "F": (0,)}[sex]
    return [f"{n:03d}" for n in range(1000) if n % 2 in parity and _fits(f"{n:03d}", shown, 14)]


@cache
def _area_residues(area_mask: str, areas: tuple) -> list[int]:
    return _residue_counts(_areas(area_mask.ljust(18, "*"), areas), 0)


@cache
def _sequence_residues(sequence_mask: str, sex: str | None) -> list[int]:
    return _residue_counts(_sequences("*" * 14 + sequence_mask + "*", sex), 14)


def count_candidates(*, shown: str, birth_dates: Iterable[datetime.date], sex: str | None, areas: Iterable[str]) -> int:
    """Valid 18-character numbers matching `shown`, born on one of `birth_dates`, of `sex`
    ("M", "F" or None), whose area code is one of `areas`."""
    assert len(shown) == 18, shown
    by_area = _area_residues(shown[AREA], tuple(areas))
    by_date = _residue_counts(_dates(shown, birth_dates), 6)
    by_sequence = _sequence_residues(shown[SEQUENCE], sex)
    total = 0
    for a, d, s in itertools.product(range(11), repeat=3):
        n = by_area[a] * by_date[d] * by_sequence[s]
        if n and (shown[CHECK] == "*" or check_char((a + d + s) % 11) == shown[CHECK]):
            total += n
    return total


def count_by_listing(*, shown: str, birth_dates, sex, areas) -> int:
    """The same count by writing out every number (small cases only: the cross-check)."""
    total = 0
    for area, date, sequence in itertools.product(_areas(shown, areas), _dates(shown, birth_dates), _sequences(shown, sex)):
        if shown[CHECK] in ("*", check_digit(area + date + sequence)):
            total += 1
    return total


@cache
def birth_dates_for_age(age: int, today: datetime.date) -> tuple[datetime.date, ...]:
    """Every birth date that makes someone `age` today (what a shown age narrows to)."""
    first = datetime.date(today.year - age - 1, 1, 1)
    days = (datetime.date(today.year - age, 12, 31) - first).days + 1
    return tuple(d for d in (first + datetime.timedelta(days=n) for n in range(days)) if age_on(d, today) == age)


@cache
def county_codes() -> tuple[str, ...]:
    """Every county-level area code python-stdnum knows (stdnum/cn/loc.dat, past ones included).
    Province and prefecture entries (codes ending 00) are left out: fewer codes, fewer candidates,
    so the bound the tests check is the stricter one."""
    text = resources.files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    codes, province = [], None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        code = line.split()[0]
        if "county=" in line and province and len(province + code) == 6 and not code.endswith("00"):
            codes.append(province + code)
    return tuple(sorted(set(codes)))
