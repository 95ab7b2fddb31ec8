"""A route's times from its order of stops (no solver): leave, travel, wait for the window, work.

Used when a person moves a visit by hand (routing.services.planned_stop_move re-times the two
routes it touches) and by the independent check of a plan (routing.check)."""

from dataclasses import dataclass

from routing.model import Place


@dataclass
class Leg:
    place: Place
    earliest: int
    latest: int
    duration: int
    fixed_start: int | None = None  # a visit done or under way: its own start and end
    fixed_end: int | None = None


@dataclass
class Timed:
    arrive: int
    start: int
    end: int
    travel: int
    distance: int
    late: bool  # started after its window's latest


def timeline(*, travel, mode: str, start: Place, leave: int, legs: list[Leg]) -> list[Timed]:
    """Each leg's times, in order, leaving `start` at `leave`."""
    if not legs:
        return []
    places = [start] + [leg.place for leg in legs]
    distance, duration = travel.matrix(places, mode)
    out, now, here = [], leave, 0
    for i, leg in enumerate(legs, start=1):
        drive, metres = duration[here][i], distance[here][i]
        if leg.fixed_start is not None:
            out.append(Timed(leg.fixed_start, leg.fixed_start, leg.fixed_end, drive, metres, False))
            now = leg.fixed_end
        else:
            arrive = now + drive
            begin = max(arrive, leg.earliest)
            out.append(Timed(arrive, begin, begin + leg.duration, drive, metres, begin > leg.latest))
            now = begin + leg.duration
        here = i
    return out
