"""Shared fixtures: a small region tree, users of each role, and a user of another region."""

import os

os.environ.setdefault("TASK_BACKEND", "immediate")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in the caller, whatever the environment said when settings were first read.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}
    settings.LANGUAGE_CODE = "zh-hans"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def tree(db):
    """全国 › 示范省 › 示范市 › 锦山区 › 东城街道 › 安泰社区 › 第一网格, and 和平路街道 › 驻春路社区."""
    return build_tree()


def build_tree():
    """The `tree` fixture's regions, for a fixture of wider scope (core/tests/test_every_route.py)."""
    from regions.models import Level
    from regions.services import region_create

    root = region_create(name="全国", level=Level.COUNTRY, parent=None)
    province = region_create(name="示范省", level=Level.PROVINCE, parent=root, code="990000000000")
    city = region_create(name="示范市", level=Level.CITY, parent=province, code="990100000000")
    district = region_create(name="锦山区", level=Level.DISTRICT, parent=city, code="990102000000")
    street = region_create(name="东城街道", level=Level.STREET, parent=district, code="990102001000")
    community = region_create(name="安泰社区", level=Level.COMMUNITY, parent=street, code="990102001001")
    grid = region_create(name="安泰第一网格", level=Level.GRID, parent=community)
    street2 = region_create(name="和平路街道", level=Level.STREET, parent=district, code="990102002000")
    community2 = region_create(name="驻春路社区", level=Level.COMMUNITY, parent=street2, code="990102002001")
    return type(
        "Tree",
        (),
        dict(
            root=root,
            province=province,
            city=city,
            district=district,
            street=street,
            community=community,
            grid=grid,
            street2=street2,
            community2=community2,
        ),
    )


def make_user(username, role, region, password="demo12345"):
    from accounts.models import User

    user = User(username=username, role=role, region=region, full_name=username)
    user.set_password(password)
    user.save()
    return user


@pytest.fixture
def admin_user(tree):
    return make_user("admin", "admin", tree.root)


@pytest.fixture
def worker(tree):
    """A community worker of 安泰社区."""
    return make_user("community", "community", tree.community)


@pytest.fixture
def worker_in_other_region(tree):
    """A community worker of 驻春路社区, who must never see 安泰社区's elders."""
    return make_user("community2", "community", tree.community2)


@pytest.fixture
def city_user(tree):
    return make_user("city", "aging_office", tree.city)


@pytest.fixture
def grid_user(tree):
    return make_user("grid", "grid", tree.grid)


@pytest.fixture
def auditor(tree):
    return make_user("auditor", "auditor", tree.city)
