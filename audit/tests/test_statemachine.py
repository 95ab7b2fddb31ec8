"""One transition table per state machine: a move follows the table or is refused with a
message naming the field and the current state; every accepted move writes one record."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import ChangeRecord
from elders.models import STATUS_ACTIONS, STATUS_MACHINE, STATUS_TRANSITIONS, Elder, Status
from elders.services import elder_change_status
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db


def records_of(elder):
    return ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk, action="status")


def test_a_move_the_table_does_not_hold_is_refused_naming_the_field_and_the_state(worker):
    elder = ElderFactory(region=worker.region, status=Status.DECEASED)

    with pytest.raises(ValidationError) as refused:
        STATUS_MACHINE.move(elder, "move_in", by=worker)

    assert refused.value.message_dict == {"action": ["状态当前为“已去世”，不能迁入，请刷新页面后重新选择"]}
    elder.refresh_from_db()
    assert (elder.status, records_of(elder).count()) == (Status.DECEASED, 0)


def test_a_move_sets_the_field_and_records_actor_time_and_reason(worker):
    elder = ElderFactory(region=worker.region)

    record = STATUS_MACHINE.move(elder, "move_out", by=worker, reason="随子女去外地", at=datetime.date(2025, 3, 1))

    elder.refresh_from_db()
    assert elder.status == Status.MOVED_OUT
    assert (record.by, record.changes, record.note) == (worker, {"status": ["active", "moved_out"]}, "2025-03-01 随子女去外地")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(sorted(STATUS_ACTIONS)), min_size=1, max_size=8))
def test_random_actions_follow_only_the_table_and_each_accepted_one_has_one_record(worker, actions):
    elder = ElderFactory(region=worker.region, birth_date=datetime.date(1940, 1, 1))
    state, accepted = elder.status, 0
    for action in actions:
        expected = STATUS_TRANSITIONS.get((state, action))
        try:
            elder_change_status(by=worker, elder=elder, action=action, effective_on=datetime.date(2025, 1, 1))
        except ValidationError as exc:
            assert expected is None and list(exc.message_dict) == ["action"]
        else:
            assert expected is not None
            state, accepted = expected, accepted + 1
        assert Elder.objects.get(pk=elder.pk).status == state
    assert records_of(elder).count() == accepted == elder.status_changes.count()
