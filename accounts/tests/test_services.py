"""User administration: users are created and changed only inside the administrator's subtree."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from accounts.services import user_create, user_update
from audit.models import ChangeRecord
from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_admin(tree):
    """A platform administrator attached to 东城街道 only."""
    return make_user("street_admin", "admin", tree.street)


def create(by, region, **over):
    data = dict(username="newbie", full_name="新同事", role="community", region=region, password="Yinling-2024-pw")
    data.update(over)
    return user_create(by=by, **data)


def test_admin_creates_a_user_in_their_subtree_with_history(street_admin, tree):
    user = create(street_admin, tree.community)

    assert user.check_password("Yinling-2024-pw")
    assert ChangeRecord.objects.filter(model="accounts.user", object_id=user.pk, action="create").exists()


def test_create_refuses_a_region_outside_the_admins_subtree(street_admin, tree):
    with pytest.raises(ValidationError) as exc_info:
        create(street_admin, tree.community2)

    assert "region" in exc_info.value.message_dict
    assert not User.objects.filter(username="newbie").exists()


def test_create_refuses_a_user_name_taken_in_another_case(street_admin, worker, tree):
    with pytest.raises(ValidationError) as exc_info:
        create(street_admin, tree.community, username="Community")

    assert "username" in exc_info.value.message_dict


def test_create_refuses_a_weak_password_on_the_password_field(street_admin, tree):
    with pytest.raises(ValidationError) as exc_info:
        create(street_admin, tree.community, password="12345678")

    assert "password" in exc_info.value.message_dict
    assert not User.objects.filter(username="newbie").exists()


def test_create_is_refused_to_a_role_without_the_add_user_permission(worker, tree):
    with pytest.raises(PermissionDenied):
        create(worker, tree.community)

    assert not User.objects.filter(username="newbie").exists()


def test_update_is_refused_for_a_user_outside_the_admins_subtree(street_admin, worker_in_other_region, tree):
    with pytest.raises(PermissionDenied):
        user_update(
            by=street_admin, user=worker_in_other_region, full_name="x", role="community", region=tree.community, is_active=True
        )

    worker_in_other_region.refresh_from_db()
    assert worker_in_other_region.region == tree.community2


def test_admin_cannot_deactivate_themselves(street_admin, tree):
    with pytest.raises(ValidationError):
        user_update(by=street_admin, user=street_admin, full_name="x", role="admin", region=tree.street, is_active=False)

    street_admin.refresh_from_db()
    assert street_admin.is_active
