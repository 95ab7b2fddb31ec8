"""Publishing a new instrument version from the admin's page and the API: changed cut-offs
regrade the elders (job), bad cut-offs are refused naming the level and publish nothing,
permission (403) and unknown codes (404)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessments import services
from assessments.definition import level_ranges
from assessments.models import Instrument
from assessments.tests.helpers import best, definition, group_at
from elders.categories import categories_of
from elders.tests.factories import ElderFactory
from jobs.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instruments")]
GBT = definition("gbt42195")
MODERATE_46 = {**group_at(GBT, group_at(GBT, best(GBT), "self_care", 0), "basic_motor", 0), "B.1.1": 3}
# 中度失能 from 50: the elder at 46 becomes 重度失能 (失能 instead of 半失能)
NEW = {"intact": (90, 90), "mild": (66, 89), "moderate": (50, 65), "severe": (30, 49), "complete": (0, 29)}
PUBLISH = "/assessments/instruments/gbt42195/publish/"
API = "/api/assessments/instruments/gbt42195/versions"


def form(cuts=NEW, note="依据地方文件调整中度失能分数段", recompute=True) -> dict:
    data = {f"levels.{c}.{b}": str(v) for c, (lo, hi) in cuts.items() for b, v in (("min", lo), ("max", hi))}
    data["note"] = note
    if recompute:
        data["recompute"] = "on"
    return data


def body(cuts=NEW, note="依据地方文件调整中度失能分数段", recompute=True) -> dict:
    return {"levels": [{"code": c, "min": lo, "max": hi} for c, (lo, hi) in cuts.items()], "note": note, "recompute": recompute}


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def categories(elder) -> set:
    return {c.code for c in categories_of(elder, timezone.localdate())}


@pytest.fixture
def assessed(worker, tree):
    """An elder whose latest GB/T assessment scored 46: 中度失能, so 半失能."""
    elder = ElderFactory(region=tree.grid, name="王秀兰")
    a = services.assessment_create(by=worker, elder=elder)
    services.assessment_answer(by=worker, assessment=a, answers=MODERATE_46)
    services.assessment_complete(by=worker, assessment=a)
    elder.refresh_from_db()
    assert (elder.ability_level, "partly_disabled" in categories(elder)) == ("moderate", True)
    return elder, a


def test_publishing_new_cut_offs_on_the_page_regrades_the_elder_and_changes_the_category(
    admin_user, assessed, django_capture_on_commit_callbacks
):
    elder, a = assessed
    c = client_for(admin_user)
    page = c.get(PUBLISH).content.decode()
    assert 'name="levels.moderate.min" value="46"' in page and 'name="recompute" checked' in page
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(PUBLISH, form())
    job = Job.objects.get(kind="assess_recompute")
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    inst = Instrument.objects.get(code="gbt42195", version=2)
    assert inst.note == "依据地方文件调整中度失能分数段"
    assert [(lv["code"], lv["min"], lv["max"]) for lv in level_ranges(inst.definition)] == [
        (code, lo, hi) for code, (lo, hi) in NEW.items()
    ]
    a.refresh_from_db()
    elder.refresh_from_db()
    assert (a.final_level, a.graded_with) == ("severe", 2)
    assert elder.ability_level == "severe"
    assert "disabled" in categories(elder) and "partly_disabled" not in categories(elder)
    # the list shows both versions, the new one in use, with its cut-offs
    listing = c.get("/assessments/instruments/").content.decode()
    assert "第 2 版" in listing and "第 1 版" in listing and "依据地方文件调整中度失能分数段" in listing
    assert listing.index('data-testid="in-use"') < listing.index("第 1 版")
    assert "50–65" in listing and "46–65" in listing


def test_without_recompute_only_the_version_is_published(admin_user, assessed):
    elder, a = assessed
    r = client_for(admin_user).post(PUBLISH, form(recompute=False))
    assert r.status_code == 302 and r["Location"] == "/assessments/instruments/"
    assert Instrument.objects.filter(code="gbt42195", version=2).exists()
    assert not Job.objects.exists()
    elder.refresh_from_db()
    assert elder.ability_level == "moderate"


@pytest.mark.parametrize(
    ("cuts", "field", "words"),
    [
        # overlap: 中度 up to 70 while 轻度 starts at 66
        ({**NEW, "moderate": (50, 70)}, "levels.moderate.max", ["“中度失能”（50–70）与“轻度失能”（66–89）重叠", "改为 65"]),
        # gap: nothing for 66–69
        ({**NEW, "mild": (70, 89)}, "levels.moderate.max", ["缺少 66–69 分", "改为 69"]),
        ({**NEW, "complete": (1, 29)}, "levels.complete.min", ["“完全失能”的最低分应为 0"]),
        ({**NEW, "intact": (90, 95)}, "levels.intact.max", ["“能力完好”的最高分请填写 0 到 90 的整数"]),
        ({**NEW, "mild": (89, 66)}, "levels.mild.max", ["“轻度失能”的最高分 66 低于最低分 89"]),
    ],
)
def test_gaps_and_overlaps_are_refused_naming_the_level_and_publish_nothing(
    admin_user, assessed, cuts, field, words, django_capture_on_commit_callbacks
):
    c = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        page = c.post(PUBLISH, form(cuts))
        api = c.post(API, body(cuts), content_type="application/json")
    assert page.status_code == 422
    text = page.content.decode()
    for w in words:
        assert w in text
    assert 'aria-invalid="true"' in text
    assert api.status_code == 422
    errors = {e["field"]: e["message"] for e in api.json()["errors"]}
    assert field in errors and all(w in errors[field] for w in words)
    assert Instrument.objects.filter(code="gbt42195").count() == 1
    assert not Job.objects.exists() and callbacks == []


def test_note_is_required_and_an_unchanged_version_is_refused(admin_user, assessed):
    c = client_for(admin_user)
    r = c.post(PUBLISH, form(note="  "))
    assert r.status_code == 422 and "请填写版本说明" in r.content.decode()
    same = {"intact": (90, 90), "mild": (66, 89), "moderate": (46, 65), "severe": (30, 45), "complete": (0, 29)}
    r = c.post(API, body(same), content_type="application/json")
    assert r.status_code == 422 and "分数段与当前第 1 版相同" in r.json()["detail"]
    r = c.post(PUBLISH, {**form(), "levels.mild.min": "六十六"})
    assert r.status_code == 422 and "“轻度失能”的最低分请填写 0 到 90 的整数" in r.content.decode()
    assert Instrument.objects.filter(code="gbt42195").count() == 1


def test_a_form_opened_on_an_older_version_is_refused(admin_user, assessed):
    c = client_for(admin_user)
    assert c.post(PUBLISH, {**form(), "version": "1"}).status_code == 302
    again = {**NEW, "moderate": (48, 65), "severe": (30, 47)}
    r = c.post(PUBLISH, {**form(again), "version": "1"})
    assert r.status_code == 422 and "已有第 2 版" in r.content.decode()
    assert Instrument.objects.filter(code="gbt42195").count() == 2


def test_the_api_answers_201_with_the_new_version_and_the_job(admin_user, assessed, django_capture_on_commit_callbacks):
    elder, _ = assessed
    with django_capture_on_commit_callbacks(execute=True):
        r = client_for(admin_user).post(API, body(), content_type="application/json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert (out["code"], out["version"], out["note"]) == ("gbt42195", 2, "依据地方文件调整中度失能分数段")
    assert {"code": "moderate", "name": "中度失能", "min": 50, "max": 65} in out["levels"]
    job = Job.objects.get(kind="assess_recompute")
    assert out["job"]["job_id"] == job.pk and out["job"]["url"].endswith(f"/api/jobs/{job.pk}")
    elder.refresh_from_db()
    assert elder.ability_level == "severe"
    r = client_for(admin_user).post(
        API, body({**NEW, "moderate": (48, 65), "severe": (30, 47)}, recompute=False), content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["job"] is None and r.json()["version"] == 3


def test_a_community_worker_gets_403_on_the_form_and_the_api(worker, assessed):
    c = client_for(worker)
    assert c.get("/assessments/instruments/").status_code == 200  # reading is for every assessor
    assert 'data-testid="publish-gbt42195"' not in c.get("/assessments/instruments/").content.decode()
    assert c.get(PUBLISH).status_code == 403
    assert c.post(PUBLISH, form()).status_code == 403
    r = c.post(API, body(), content_type="application/json")
    assert r.status_code == 403 and r.json()["detail"]
    assert Instrument.objects.filter(code="gbt42195").count() == 1 and not Job.objects.exists()
    with pytest.raises(Exception, match="没有发布评估量表的权限"):
        services.instrument_publish_levels(by=worker, code="gbt42195", levels=body()["levels"], note="x")


def test_an_unknown_code_is_404(admin_user):
    c = client_for(admin_user)
    assert c.get("/assessments/instruments/nosuch/publish/").status_code == 404
    assert c.post("/assessments/instruments/nosuch/publish/", form()).status_code == 404
    r = c.post("/api/assessments/instruments/nosuch/versions", body(), content_type="application/json")
    assert r.status_code == 404 and r.json()["detail"]
    r = c.post("/api/assessments/instruments/GBT%00/versions", body(), content_type="application/json")
    assert r.status_code == 404


def test_barthel_versions_get_their_own_ranges(admin_user):
    cuts = {"intact": (100, 100), "mild": (60, 99), "moderate": (40, 59), "severe": (0, 39)}
    r = client_for(admin_user).post(
        "/api/assessments/instruments/barthel/versions", body(cuts, recompute=False), content_type="application/json"
    )
    assert r.status_code == 201, r.content
    assert [lv["min"] for lv in r.json()["levels"]] == [100, 60, 40, 0]


# --- the cut-off rule, as arithmetic ---------------------------------------------------------


@st.composite
def partitions(draw):
    """Four distinct cut points in 1..90: five contiguous ranges covering 0..90, best first."""
    cuts = sorted(draw(st.sets(st.integers(1, 90), min_size=4, max_size=4)), reverse=True)
    mins = [*cuts, 0]
    codes = [lv["code"] for lv in GBT["levels"]]
    return [
        {"code": c, "min": lo, "max": 90 if i == 0 else mins[i - 1] - 1}
        for i, (c, lo) in enumerate(zip(codes, mins, strict=True))
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ranges=partitions(), data=st.data())
def test_contiguous_ranges_are_accepted_and_any_shifted_bound_is_refused(ranges, data):
    levels = services.levels_from_ranges(GBT, list(reversed(ranges)))  # any order
    assert [lv["min"] for lv in levels] == [r["min"] for r in ranges]
    assert level_ranges({**GBT, "levels": levels}) == [
        {**r, "name": lv["name"]} for r, lv in zip(ranges, GBT["levels"], strict=True)
    ]
    i = data.draw(st.integers(0, len(ranges) - 1))
    bound = data.draw(st.sampled_from(["min", "max"]))
    delta = data.draw(st.sampled_from([-1, 1]))
    broken = [dict(r) for r in ranges]
    broken[i][bound] += delta
    with pytest.raises(ValidationError) as exc:
        services.levels_from_ranges(GBT, broken)
    assert all(key.startswith("levels.") for key in exc.value.message_dict)
