import pytest

from conftest import make_user


@pytest.fixture
def elder(tree):
    from elders.tests.factories import ElderFactory

    return ElderFactory(
        region=tree.grid, name="冷国兴", living_arrangement="spouse", children_count=2, address="经济房15号楼7单元6楼东户"
    )


@pytest.fixture
def neighbour(tree):
    """张玉华's account (老人/家属, no region): her phone page lists her elders."""
    user = make_user("zhangyuhua", "elder", None)
    user.full_name = "张玉华"
    user.save()
    return user
