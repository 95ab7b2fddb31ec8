"""The access log in words (issue 9): what was seen ("老年人 王秀兰 的身份证号和电话", not
`elders.elder`), the filters of each export as stored (numbers starred), the reason of a
reveal, a date range and a user picker of the users in scope."""

import datetime
import io

import pytest
from django.utils import timezone

from audit.models import AccessLog
from conftest import make_user
from elders.exporter import elder_export
from elders.selectors import elder_reveal, parse_filter
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logs(tree, worker, worker_in_other_region):
    wang = ElderFactory(region=tree.community, name="王秀兰")
    elder_reveal(user=worker, elder=wang, reason="电话回访", fields=("id_number", "phone"))
    filters = parse_filter({"q": "13912345678", "category": ["very_old", "lives_alone"], "status": "all"})
    elder_export(user=worker, filters=filters, reveal=True, out=io.BytesIO())
    other = ElderFactory(region=tree.community2, name="李建国")
    elder_reveal(user=worker_in_other_region, elder=other, reason="上门走访前联系", fields=("phone",))
    return wang


def page(client, user, **params):
    client.force_login(user)
    return client.get("/audit/access/", params).content.decode()


def test_a_reveal_reads_as_who_and_what_was_seen(client, auditor, logs):
    html = page(client, auditor)

    assert "老年人 王秀兰 的身份证号和电话" in html
    assert f'href="/elders/{logs.pk}/"' in html
    assert "原因：电话回访" in html
    assert "elders.elder" not in html


def test_an_export_shows_its_filters_in_words_with_numbers_starred(client, auditor, logs):
    html = page(client, auditor)

    assert "老年人名单（含完整身份证号和电话）" in html
    assert "搜索“***********”；类别：高龄、独居；状态：全部状态" in html
    assert "13912345678" not in html


def test_the_user_picker_lists_the_users_in_the_auditors_scope(client, tree, auditor, logs, worker, worker_in_other_region):
    street_auditor = make_user("street_auditor", "auditor", tree.street)

    city_html = page(client, auditor)
    street_html = page(client, street_auditor)

    assert f'<option value="{worker.pk}"' in city_html and f'<option value="{worker_in_other_region.pk}"' in city_html
    assert f'<option value="{worker.pk}"' in street_html
    assert f'<option value="{worker_in_other_region.pk}"' not in street_html


def test_the_log_is_filtered_by_the_user_picked(client, auditor, logs, worker_in_other_region):
    html = page(client, auditor, by=worker_in_other_region.pk)

    assert "老年人 李建国 的电话" in html
    assert "王秀兰" not in html


def test_the_log_is_filtered_by_a_date_range(client, auditor, logs):
    today = timezone.localdate()
    AccessLog.objects.filter(detail__reason="电话回访").update(at=timezone.now() - datetime.timedelta(days=3))

    last_two_days = page(client, auditor, **{"from": (today - datetime.timedelta(days=1)).isoformat(), "to": today.isoformat()})
    three_days_ago = page(
        client,
        auditor,
        **{"from": (today - datetime.timedelta(days=3)).isoformat(), "to": (today - datetime.timedelta(days=3)).isoformat()},
    )

    assert "王秀兰 的身份证号和电话" not in last_two_days and "李建国" in last_two_days
    assert "王秀兰 的身份证号和电话" in three_days_ago and "李建国" not in three_days_ago


def test_a_bad_date_or_range_is_named_and_not_a_500(client, auditor, logs):
    client.force_login(auditor)

    bad = client.get("/audit/access/", {"from": "2025-13-40"})
    backwards = client.get("/audit/access/", {"from": "2025-03-02", "to": "2025-03-01"})

    assert bad.status_code == 200 and "日期格式应为" in bad.content.decode()
    assert backwards.status_code == 200 and "结束日期不能早于开始日期" in backwards.content.decode()


def test_an_elder_now_outside_the_auditors_view_stays_a_number(client, tree, logs):
    """The reveal happened in 东城街道 (the log is the street auditor's); the elder has since
    been received in 和平路街道: the street auditor reads the log, not the elder's name."""
    from elders.models import Elder

    street_auditor = make_user("street_auditor", "auditor", tree.street)
    Elder.objects.filter(pk=logs.pk).update(region=tree.community2)

    html = page(client, street_auditor)

    assert f"老年人 #{logs.pk} 的身份证号和电话" in html
    assert "王秀兰" not in html and f'href="/elders/{logs.pk}/"' not in html


def test_the_access_log_stacks_into_cards_on_a_phone(client, auditor, logs):
    html = page(client, auditor)

    assert 'class="table table--stack"' in html
    assert 'data-label="看到了什么"' in html
