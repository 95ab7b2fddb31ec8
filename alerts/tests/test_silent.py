"""Silent devices are told (alerts.services.silent_devices_notify, hourly): once per silence, to
the duty users of the policy or else the community's workers; names and counts, no number."""

import datetime

import pytest

from alerts import services
from alerts.models import Device
from conftest import make_user
from core import notify

pytestmark = pytest.mark.django_db

H = datetime.timedelta(hours=1)


def _silent_notices():
    return [n for n in notify.outbox if n.subject.startswith("设备失联提醒")]


def test_a_silent_device_is_told_once_per_silence(world, t0):
    device = world.device
    services.device_heartbeat(device=device, battery=80, at=t0)  # 60-minute interval: silent after t0 + 2 h
    notify.outbox.clear()

    assert services.silent_devices_notify(now=t0 + H) == {"devices": 0, "notices": 0}
    assert services.silent_devices_notify(now=t0 + 3 * H) == {"devices": 1, "notices": 1}
    [notice] = _silent_notices()
    assert list(notice.to_user_ids) == [world.worker.pk]  # no policy: the community's worker
    assert "欧阳春梅" in notice.body and "1 台" in notice.subject
    assert device.number not in notice.body and "860000" not in notice.body + notice.subject
    assert Device.objects.get(pk=device.pk).silent_notified_at == t0 + 3 * H

    # the next hours: the same silence is not told again
    assert services.silent_devices_notify(now=t0 + 4 * H)["devices"] == 0
    assert len(_silent_notices()) == 1

    # a heartbeat ends the silence; a new silence is told again
    services.device_heartbeat(device=device, at=t0 + 5 * H)
    assert Device.objects.get(pk=device.pk).silent_notified_at is None
    assert services.silent_devices_notify(now=t0 + 6 * H)["devices"] == 0
    assert services.silent_devices_notify(now=t0 + 8 * H)["devices"] == 1
    assert len(_silent_notices()) == 2


def test_the_policys_duty_users_hear_of_it_and_a_retired_device_is_not_told(world, t0, tree):
    on_duty = make_user("onduty", "community", tree.community)
    services.policy_set(
        by=world.worker, region=tree.community, steps=[{"target": "duty", "wait_minutes": 5}], duty_users=[on_duty]
    )
    services.device_heartbeat(device=world.device, at=t0)
    notify.outbox.clear()
    services.silent_devices_notify(now=t0 + 3 * H)
    [notice] = _silent_notices()
    assert list(notice.to_user_ids) == [on_duty.pk]

    services.device_heartbeat(device=world.device, at=t0 + 4 * H)
    services.device_retire(by=world.worker, device=world.device, reason="老人搬走")
    assert services.silent_devices_notify(now=t0 + 9 * H)["devices"] == 0
