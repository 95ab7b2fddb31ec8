"""Travel models by hand: the straight line at each speed, DIMACS truncation, OSRM against a fake."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from routing.model import Place
from routing.travel import Euclidean, OsrmTable, StraightLine, TravelError, travel_from_settings


def test_straight_line_is_great_circle_times_detour_at_each_speed():
    # 0.01° of latitude = 6,371,008.8 m × π/18000 = 1111.95 m; × 1.3 = 1445.5 m.
    travel = StraightLine(detour=1.3, speeds_kmh={"foot": 4.5, "ebike": 15, "car": 25})
    places = [Place(39.90, 116.40), Place(39.91, 116.40)]
    distance, foot = travel.matrix(places, "foot")
    assert distance == [[0, 1446], [1446, 0]]
    assert foot[0][1] == 1156  # 1445.5 m at 1.25 m/s
    assert travel.matrix(places, "ebike")[1][0][1] == 347  # at 4.17 m/s
    assert travel.matrix(places, "car")[1][1][0] == 208  # at 6.94 m/s


def test_straight_line_defaults_come_from_settings(settings):
    settings.ROUTING = {**settings.ROUTING, "TRAVEL": "straight_line", "DETOUR": 2.0}
    travel = travel_from_settings()
    assert isinstance(travel, StraightLine) and travel.detour == 2.0
    assert travel.speeds_kmh["foot"] == 4.5


def test_euclidean_truncates_to_whole_tenths():
    distance, duration = Euclidean(10).matrix([Place(0, 0), Place(1, 1), Place(3, 4), Place(1, 2)], "car")
    assert distance[0] == [0, 14, 50, 22]  # √2 = 1.414 → 14; 5 → 50; √5 = 2.236 → 22 (never rounded up)
    assert duration == distance


class _FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table/v1/<profile>/<lng,lat;…>: 100,000 m (and 10,000 s) per degree of latitude, from the
    coordinates themselves, so every block of a chunked request can be checked."""

    calls: list = []

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        profile, coords = url.path.split("/")[3], url.path.split("/")[4]
        points = [tuple(map(float, c.split(","))) for c in coords.split(";")]
        query = parse_qs(url.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        targets = [int(i) for i in query["destinations"][0].split(";")]
        self.calls.append((profile, len(points)))
        lat = [p[1] for p in points]
        body = {
            "code": "Ok",
            "distances": [[round(abs(lat[s] - lat[t]) * 100000) for t in targets] for s in sources],
            "durations": [[round(abs(lat[s] - lat[t]) * 10000) for t in targets] for s in sources],
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = HTTPServer(("127.0.0.1", 0), _FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeOsrm.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_osrm_table_in_blocks(osrm, settings):
    places = [Place(30 + i / 100, 120) for i in range(5)]  # lat 30.00 … 30.04
    travel = OsrmTable(osrm, {"ebike": "bike"}, timeout=5, chunk=2)
    distance, duration = travel.matrix(places, "ebike")
    assert distance[0][4] == 4000 and distance[3][1] == 2000 and distance[2][2] == 0
    assert duration[4][0] == 400
    assert len(_FakeOsrm.calls) == 9 and all(c[0] == "bike" for c in _FakeOsrm.calls)  # 3 × 3 blocks
    settings.ROUTING = {**settings.ROUTING, "TRAVEL": osrm}
    assert isinstance(travel_from_settings(), OsrmTable)


def test_osrm_not_answering_says_so_in_chinese_and_english():
    travel = OsrmTable("http://127.0.0.1:9", timeout=2)  # the discard port: nothing listens
    with pytest.raises(TravelError) as caught:
        travel.matrix([Place(30, 120), Place(30.01, 120)], "car")
    assert "没有应答" in str(caught.value) and "did not answer" in str(caught.value)
