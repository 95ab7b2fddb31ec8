"""Certificates about to expire: the list (page, API) for an organisation and a region, the
window, and the daily reminder to the organisation through core.notify."""

import datetime

import pytest

from conftest import make_user
from core import notify
from providers import selectors, services
from providers.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_outbox():
    notify.outbox.clear()


def test_the_list_holds_expired_and_soon_expiring_certificates_soonest_first(tree):
    org = f.organisation(tree)
    person = f.caregiver(tree, org, name="王丽")
    later = f.certificate(tree, person, days=50, number="C50")
    expired = f.certificate(tree, person, days=-3, number="C-3")
    f.certificate(tree, person, days=90, number="C90")  # outside the 60-day window
    f.certificate(tree, person, days=None, number="CLONG")  # no expiry
    user = f.org_user(org)

    assert list(selectors.certificates_expiring(user=user)) == [expired, later]
    assert list(selectors.certificates_expiring(user=user, days=30)) == [expired]
    assert list(selectors.certificates_expiring(user=user, days=120, include_expired=False))[-1].number == "C90"


def test_staff_who_left_are_not_listed(tree):
    org = f.organisation(tree)
    person = f.caregiver(tree, org)
    f.certificate(tree, person, days=5)
    services.caregiver_change_status(by=f.admin_of(tree), caregiver=person, action="leave")

    assert not selectors.certificates_expiring(user=f.org_user(org)).exists()


def test_the_list_is_scoped_to_the_organisation_and_the_region(tree):
    mine = f.organisation(tree, region=tree.community)
    theirs = f.organisation(tree, region=tree.community2)
    f.certificate(tree, f.caregiver(tree, mine, name="甲"), days=5)
    f.certificate(tree, f.caregiver(tree, theirs, name="乙"), days=5)

    names = lambda user: [c.caregiver.name for c in selectors.certificates_expiring(user=user)]  # noqa: E731
    assert names(f.org_user(mine)) == ["甲"]
    assert names(make_user("c1", "community", tree.community)) == ["甲"]
    assert names(make_user("d", "aging_office", tree.district)) == ["甲", "乙"]


def test_the_page_and_the_api_show_the_list(tree, client):
    org = f.organisation(tree)
    f.certificate(tree, f.caregiver(tree, org, name="王丽"), days=5, number="YL20250001")
    client.force_login(f.org_user(org))

    page = client.get("/providers/certificates/expiring/").content.decode()
    assert "王丽" in page and "YL20250001" not in page
    body = client.get("/api/providers/certificates/expiring?days=10").json()
    assert [i["caregiver"]["name"] for i in body["items"]] == ["王丽"]
    assert body["items"][0]["number"] == "YL******01"
    assert client.get("/api/providers/certificates/expiring?days=0").status_code == 422
    assert client.get("/providers/certificates/expiring/?days=abc").status_code == 200


def test_the_reminder_goes_to_each_organisations_provider_users_without_numbers(tree, settings):
    settings.NOTIFY_CHANNEL = "core.notify.LogChannel"
    a = f.organisation(tree, name="康乃馨家政")
    b = f.organisation(tree, name="驻春路家政", region=tree.community2)
    f.certificate(tree, f.caregiver(tree, a, name="王丽", phone="13812345678"), days=10, number="YL20250001")
    f.certificate(tree, f.caregiver(tree, b, name="赵敏"), days=100)  # outside the window
    boss = f.org_user(a)
    f.org_user(a, role="caregiver")  # caregivers do not get the organisation's reminders
    f.org_user(b)

    result = services.certificate_reminders_send()

    assert result == {"organisations": 1, "certificates": 1}
    (notice,) = notify.outbox
    assert notice.to_user_ids == (boss.pk,)
    assert "康乃馨家政" in notice.subject and "王丽" in notice.body
    assert "YL20250001" not in notice.body + notice.subject and "13812345678" not in notice.body


def test_the_reminder_is_a_periodic_task_of_the_schedule():
    from jobs.schedule import SCHEDULE, periodic_get

    entry = periodic_get("certificate_reminders")
    assert entry in SCHEDULE and entry.every == datetime.timedelta(days=1)
    assert entry.function == "providers.services.certificate_reminders_send"


def test_the_reminder_runs_through_the_task_layer(tree):
    from jobs.tasks import periodic_task

    org = f.organisation(tree)
    f.certificate(tree, f.caregiver(tree, org), days=3)
    f.org_user(org)

    periodic_task.enqueue("certificate_reminders")  # the immediate backend in tests

    assert len(notify.outbox) == 1


def test_a_channel_is_pluggable(settings):
    sent = []

    class Channel:
        def send(self, to_user_ids, subject, body):
            sent.append((list(to_user_ids), subject))

    import sys
    import types

    module = types.ModuleType("test_channel_module")
    module.Channel = Channel
    sys.modules["test_channel_module"] = module
    settings.NOTIFY_CHANNEL = "test_channel_module.Channel"

    notify.notify([3, 4], subject="主题", body="正文")
    notify.notify([], subject="无人", body="")

    assert sent == [([3, 4], "主题")]


@pytest.mark.parametrize(("days", "listed"), [(-1, True), (0, True), (60, True), (61, False)])
def test_the_window_boundary(tree, days, listed):
    """Listed exactly when expires_on ≤ today + CERTIFICATE_EXPIRY_DAYS (60), expired included."""
    org = f.organisation(tree)
    f.certificate(tree, f.caregiver(tree, org), days=days)

    assert selectors.certificates_expiring(user=f.org_user(org)).exists() is listed
