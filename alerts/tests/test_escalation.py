"""Escalation timing with a controlled clock (issue 12, item 4)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from alerts import services
from alerts.escalation import escalate_due
from alerts.models import Alert, AlertEvent, Status
from alerts.tests.factories import World
from core import notify

pytestmark = pytest.mark.django_db

MIN = datetime.timedelta(minutes=1)


def raise_alert(world, t0, **kw):
    alert, created = services.alert_raise(
        elder=world.elder,
        source="device",
        kind="sos",
        occurred_at=t0,
        device=world.device,
        event_id=kw.pop("event_id", "e1"),
        now=t0,
        **kw,
    )
    assert created
    return alert


def notified(alert):
    return [
        (e.step, e.target, e.to_user_ids)
        for e in AlertEvent.objects.filter(alert=alert, kind__in=["notified", "prompt"]).order_by("at", "id")
    ]


def test_raising_notifies_the_watcher_at_once_and_waits_three_minutes(world, t0, django_capture_on_commit_callbacks):
    notify.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(world, t0)

    alert.refresh_from_db()
    assert notified(alert) == [(0, "watcher", [world.watcher.pk])]
    assert alert.step == 1 and alert.next_step_at == t0 + 3 * MIN
    assert [n.to_user_ids for n in notify.outbox] == [(world.watcher.pk,)]
    assert "欧阳春梅" in notify.outbox[-1].subject and f"/alerts/{alert.pk}/respond/" in notify.outbox[-1].body


def test_nothing_runs_before_the_wait_is_over(world, t0):
    alert = raise_alert(world, t0)
    assert escalate_due(now=t0 + 3 * MIN - datetime.timedelta(seconds=1)) == 0
    alert.refresh_from_db()
    assert alert.step == 1


def test_nobody_answers_every_step_runs_then_the_120_prompt_and_the_chain_stops(world, t0):
    alert = raise_alert(world, t0)
    assert escalate_due(now=t0 + 3 * MIN) == 1  # family
    assert escalate_due(now=t0 + 6 * MIN) == 1  # duty (the community worker: no duty users set)
    assert escalate_due(now=t0 + 11 * MIN) == 1  # the prompt to call 120
    alert.refresh_from_db()
    assert notified(alert) == [
        (0, "watcher", [world.watcher.pk]),
        (1, "family", [world.relative.pk]),
        (2, "duty", [world.worker.pk]),
        (3, "call_120", []),
    ]
    assert alert.events.get(kind="prompt").text == "请立即拨打 120"
    assert alert.next_step_at is None and alert.status == Status.RAISED
    assert escalate_due(now=t0 + 60 * MIN) == 0


@pytest.mark.parametrize("answered_after", [0, 1, 2])
def test_acknowledging_at_a_step_stops_the_chain(world, t0, answered_after):
    alert = raise_alert(world, t0)
    at = t0
    for minutes in (3, 6)[:answered_after]:
        at = t0 + minutes * MIN
        escalate_due(now=at)
    services.alert_acknowledge(by=world.watcher, alert=alert, now=at + 30 * datetime.timedelta(seconds=1))

    alert.refresh_from_db()
    assert alert.status == Status.ACKNOWLEDGED and alert.next_step_at is None
    assert alert.acknowledged_by == world.watcher and alert.acknowledged_at == at + datetime.timedelta(seconds=30)
    assert escalate_due(now=t0 + 120 * MIN) == 0
    assert len(notified(alert)) == answered_after + 1
    assert alert.events.filter(kind="acknowledged").count() == 1


def test_the_policy_edited_mid_alert_does_not_change_it(world, t0, tree):
    alert = raise_alert(world, t0)
    services.policy_set(by=world.worker, region=tree.community, steps=[{"target": "grid", "wait_minutes": 1}])
    escalate_due(now=t0 + 3 * MIN)
    alert.refresh_from_db()
    assert [s["target"] for s in alert.steps] == ["watcher", "family", "duty", "call_120"]
    assert notified(alert)[-1][1] == "family"
    later = services.alert_raise(
        elder=world.elder, source="hotline", kind="fall", occurred_at=t0, by=world.worker, now=t0 + 4 * MIN
    )[0]
    assert [s["target"] for s in later.steps] == ["grid"]
    assert notified(later) == [(0, "grid", [world.grid.pk])]


def test_a_step_with_nobody_to_notify_is_recorded_and_the_chain_goes_straight_on(tree, t0):
    world = World(tree, with_watcher=False)
    alert = raise_alert(world, t0)
    alert.refresh_from_db()
    events = notified(alert)
    assert events == [(0, "watcher", []), (1, "family", [world.relative.pk])]
    assert alert.events.filter(step=0).get().text == "无守望员账号，已跳过"
    assert alert.step == 2 and alert.next_step_at == t0 + 3 * MIN


def test_duty_users_of_the_policy_are_copied_onto_the_alert(world, t0, tree):
    from conftest import make_user

    duty = make_user("duty2", "community", tree.community)
    services.policy_set(by=world.worker, region=tree.community, steps=[{"target": "duty", "wait_minutes": 0}], duty_users=[duty])
    alert = raise_alert(world, t0)
    services.policy_set(by=world.worker, region=tree.community, steps=[{"target": "duty", "wait_minutes": 0}], duty_users=[])
    assert notified(alert) == [(0, "duty", [duty.pk])]
    assert alert.steps[0]["duty_user_ids"] == [duty.pk]


def test_the_street_policy_applies_below_it_until_the_community_sets_its_own(world, tree):
    from alerts.selectors import policy_for_region
    from conftest import make_user

    admin = make_user("adm", "admin", tree.root)
    services.policy_set(by=admin, region=tree.street, steps=[{"target": "grid", "wait_minutes": 2}])
    assert policy_for_region(tree.grid)[1] == [{"target": "grid", "wait_minutes": 2}]
    services.policy_set(by=admin, region=tree.community, steps=[{"target": "family", "wait_minutes": 5}])
    assert policy_for_region(tree.grid)[1] == [{"target": "family", "wait_minutes": 5}]
    assert policy_for_region(tree.community2)[0] is None


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "请至少设置一个升级步骤"),
        ([{"target": "police", "wait_minutes": 1}], "第 1 步的通知对象无效"),
        (
            [{"target": "watcher", "wait_minutes": 3}, {"target": "family", "wait_minutes": 121}],
            "第 2 步的等待时间应为 0 至 120 分钟",
        ),
        ([{"target": "watcher", "wait_minutes": 1}] * 11, "升级步骤最多 10 步"),
    ],
)
def test_policy_set_refuses_bad_steps_naming_the_step(world, tree, steps, message):
    with pytest.raises(ValidationError) as exc:
        services.policy_set(by=world.worker, region=tree.community, steps=steps)
    assert message in str(exc.value.message_dict["steps"])


def test_escalation_tick_runs_many_alerts_in_one_go(world, t0):
    for i in range(5):
        raise_alert(world, t0, event_id=f"many-{i}")
    assert escalate_due(now=t0 + 3 * MIN, batch=2) == 5
    assert set(Alert.objects.values_list("step", flat=True)) == {2}


def test_a_failing_channel_is_recorded_and_the_chain_goes_on(world, t0, settings, django_capture_on_commit_callbacks):
    settings.NOTIFY_CHANNEL = "alerts.tests.test_escalation.BrokenChannel"
    with django_capture_on_commit_callbacks(execute=True):
        alert = raise_alert(world, t0)
    assert alert.events.filter(kind="note", text="通知发送失败，请电话联系").count() == 1
    assert escalate_due(now=t0 + 3 * MIN) == 1


class BrokenChannel:
    def send(self, to_user_ids, subject, body):
        raise ConnectionError("gateway down")


def test_a_late_tick_runs_every_step_that_came_due_keeping_the_timing(world, t0):
    alert = raise_alert(world, t0)
    assert escalate_due(now=t0 + 7 * MIN) == 1  # family (due 3 min) and duty (due 6 min)
    alert.refresh_from_db()
    assert [e[1] for e in notified(alert)] == ["watcher", "family", "duty"]
    assert alert.next_step_at == t0 + 11 * MIN


def test_a_tick_a_little_late_does_not_delay_the_next_step(world, t0):
    alert = raise_alert(world, t0)
    escalate_due(now=t0 + 3 * MIN + datetime.timedelta(seconds=9))
    alert.refresh_from_db()
    assert alert.next_step_at == t0 + 6 * MIN
