import pytest
from django.core.management import CommandError, call_command

from accounts.models import User


@pytest.mark.django_db
def test_create_admin_makes_an_admin_at_the_root_of_a_new_tree(monkeypatch):
    monkeypatch.setenv("YINLING_ADMIN_PASSWORD", "a-long-Pass-phrase-42")

    call_command("create_admin", "boss")

    user = User.objects.get(username="boss")
    assert user.role == "admin"
    assert user.region.parent is None and user.region.name == "全国"
    assert user.check_password("a-long-Pass-phrase-42")


@pytest.mark.django_db
def test_create_admin_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("YINLING_ADMIN_PASSWORD", "123")

    with pytest.raises(CommandError):
        call_command("create_admin", "boss")

    assert not User.objects.filter(username="boss").exists()
