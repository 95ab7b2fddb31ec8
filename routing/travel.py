"""Travel models: distances and travel times between places (the `routing.model.Travel` protocol).

- `StraightLine`: the default, no map service needed. Great-circle metres × a detour factor,
  seconds at the speed of the means of travel. Places are WGS-84 degrees, `Place(x=lat, y=lng)`.
- `Euclidean`: VRPLIB instances, plane coordinates, DIMACS rounding (distance truncated to one
  decimal, kept as whole tenths; the travel time equals the distance, as in Solomon's data).
- `OsrmTable`: an OSRM server the deployment runs itself (its /table service); docs/routing.md
  tells how to build one from OpenStreetMap.

`travel_from_settings()` picks one from settings.ROUTING.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request

from routing.model import Place

UNREACHABLE = 10**9  # what a pair the routing engine cannot connect costs (≈ 31 years, 10^6 km)


class TravelError(Exception):
    """The travel model could not answer (the routing engine is down or answered nonsense)."""


class StraightLine:
    """Great-circle distance × `detour` (metres), travel time at the mode's speed (seconds)."""

    def __init__(self, detour: float | None = None, speeds_kmh: dict[str, float] | None = None):
        if detour is None or speeds_kmh is None:
            from django.conf import settings

            detour = settings.ROUTING["DETOUR"] if detour is None else detour
            speeds_kmh = settings.ROUTING["SPEED_KMH"] if speeds_kmh is None else speeds_kmh
        self.detour = float(detour)
        self.speeds_kmh = dict(speeds_kmh)

    def matrix(self, places: list[Place], mode: str) -> tuple[list[list[int]], list[list[int]]]:
        import numpy as np

        from core.geo import EARTH_RADIUS_M

        metres_per_second = self.speeds_kmh[mode] / 3.6
        # core.geo.haversine_m for every pair at once (the same formula, vectorised).
        lat = np.radians(np.array([p.x for p in places], dtype=float))
        lng = np.radians(np.array([p.y for p in places], dtype=float))
        dlat = lat[None, :] - lat[:, None]
        dlng = lng[None, :] - lng[:, None]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlng / 2) ** 2
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a))) * self.detour
        distance = np.rint(metres).astype(np.int64)
        duration = np.rint(metres / metres_per_second).astype(np.int64)
        return distance.tolist(), duration.tolist()


class Euclidean:
    """Plane distance × `scale`, truncated to a whole number (DIMACS: scale 10, one decimal).

    Travel time equals the distance. Solomon's times are in the same units as its distances,
    so a caller scales service times and windows by the same `scale` (routing.vrplib does)."""

    def __init__(self, scale: int = 10):
        self.scale = scale

    def matrix(self, places: list[Place], mode: str) -> tuple[list[list[int]], list[list[int]]]:
        n = len(places)
        distance = [[0] * n for _ in range(n)]
        for i, a in enumerate(places):
            row = distance[i]
            for j, b in enumerate(places):
                if i != j:
                    dx, dy = a.x - b.x, a.y - b.y
                    # sqrt(dx² + dy²) as numpy computes it, then truncated: exactly pyvrp.read's
                    # "dimacs" rounding, so costs compare with the published ones.
                    row[j] = int(self.scale * math.sqrt(dx * dx + dy * dy))
        return distance, [row[:] for row in distance]


class OsrmTable:
    """An OSRM server's table service: `GET {base_url}/table/v1/{profile}/{lng,lat;…}`.

    Big matrices are asked in blocks of `chunk` × `chunk` places (OSRM's default
    --max-table-size is 100). A pair OSRM cannot connect (null) costs UNREACHABLE."""

    def __init__(self, base_url: str, profile_by_mode: dict[str, str] | None = None, timeout: float = 30, chunk: int = 50):
        self.base_url = base_url.rstrip("/")
        self.profile_by_mode = profile_by_mode or {"foot": "foot", "ebike": "bike", "car": "car"}
        self.timeout = timeout
        self.chunk = max(1, chunk)

    def _get(self, url: str) -> dict:
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                body = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise TravelError(
                f"路线服务（OSRM）{self.base_url} 没有应答：{exc}。请检查 ROUTING_TRAVEL 的地址和服务是否在运行，"
                f"或改回 straight_line。 / The routing server {self.base_url} did not answer: {exc}. "
                "Check ROUTING_TRAVEL and that the server runs, or set it back to straight_line."
            ) from exc
        except ValueError as exc:
            raise TravelError(
                f"路线服务（OSRM）{self.base_url} 的应答不是 JSON。 / The routing server answered something that is not JSON."
            ) from exc
        if body.get("code") != "Ok":
            raise TravelError(
                f"路线服务（OSRM）拒绝了请求：{body.get('code')} {body.get('message', '')}。 / "
                f"The routing server refused the request: {body.get('code')} {body.get('message', '')}."
            )
        return body

    def matrix(self, places: list[Place], mode: str) -> tuple[list[list[int]], list[list[int]]]:
        profile = self.profile_by_mode.get(mode, mode)
        n = len(places)
        distance = [[0] * n for _ in range(n)]
        duration = [[0] * n for _ in range(n)]
        blocks = [list(range(k, min(n, k + self.chunk))) for k in range(0, n, self.chunk)]
        for sources in blocks:
            for targets in blocks:
                points = sources + [t for t in targets if t not in sources]
                position = {p: i for i, p in enumerate(points)}
                coords = ";".join(f"{places[p].y:.6f},{places[p].x:.6f}" for p in points)
                url = (
                    f"{self.base_url}/table/v1/{profile}/{coords}?annotations=distance,duration"
                    f"&sources={';'.join(str(position[s]) for s in sources)}"
                    f"&destinations={';'.join(str(position[t]) for t in targets)}"
                )
                body = self._get(url)
                try:
                    for a, s in enumerate(sources):
                        for b, t in enumerate(targets):
                            metres = body["distances"][a][b]
                            seconds = body["durations"][a][b]
                            distance[s][t] = UNREACHABLE if metres is None else round(metres)
                            duration[s][t] = UNREACHABLE if seconds is None else round(seconds)
                except (KeyError, IndexError, TypeError) as exc:
                    raise TravelError(
                        "路线服务（OSRM）的应答缺少距离或时间（annotations=distance,duration）。 / "
                        "The routing server's answer lacks distances or durations."
                    ) from exc
        return distance, duration


def travel_from_settings():
    """The travel model settings.ROUTING["TRAVEL"] names: "straight_line" or an OSRM URL."""
    from django.conf import settings

    config = settings.ROUTING
    travel = config.get("TRAVEL", "straight_line")
    if travel == "straight_line":
        return StraightLine(detour=config["DETOUR"], speeds_kmh=config["SPEED_KMH"])
    return OsrmTable(travel, profile_by_mode=config.get("OSRM_PROFILES"), timeout=config.get("OSRM_TIMEOUT_SECONDS", 30))
