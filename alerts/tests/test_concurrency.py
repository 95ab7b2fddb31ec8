"""Two retries of one device event arriving together (PostgreSQL, two connections): one alert,
one first notification, and neither request fails."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from alerts.models import Alert, AlertEvent
from alerts.tests.factories import World


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_returns_the_same_alert_and_never_500s(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    world = World(tree)
    body = json.dumps(
        {"device": world.device.number, "event_id": "race-1", "kind": "sos", "occurred_at": timezone.now().isoformat()}
    )
    start = threading.Barrier(4)
    answers = []

    def post():
        from django.db import connections

        try:
            start.wait()
            response = Client().post(
                "/api/alerts", body, content_type="application/json", headers={"Authorization": f"Device {world.token}"}
            )
            answers.append((response.status_code, response.json()["id"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({alert_id for _, alert_id in answers}) == 1
    assert Alert.objects.count() == 1
    assert AlertEvent.objects.filter(kind="notified", step=0).count() == 1
