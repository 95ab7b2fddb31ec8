"""Drafts, answers saved one by one, completion, the elder's level and categories, the next date,
the due list and the set-based recompute after a cut-off change."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from assessments import selectors, services
from assessments.models import Assessment, Instrument, Status
from assessments.tests.helpers import best, definition, group_at
from audit.models import ChangeRecord
from conftest import make_user
from elders.categories import categories_of
from elders.models import Elder
from elders.tests.factories import ElderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("instruments")]
GBT = definition("gbt42195")
SEVERE_43 = group_at(GBT, group_at(GBT, best(GBT), "self_care", 0), "basic_motor", 0)
MILD_66 = group_at(GBT, best(GBT), "self_care", 1)


@pytest.fixture
def elder(tree):
    return ElderFactory(region=tree.grid, name="王秀兰")


def filled(by, elder, answers, facts=None, on=None):
    a = services.assessment_create(by=by, elder=elder, assessed_on=on)
    return services.assessment_answer(by=by, assessment=a, answers=answers, facts=facts or {})


def test_the_data_migration_loads_both_instruments():
    import importlib

    from django.apps import apps

    Instrument.objects.all().delete()
    importlib.import_module("assessments.migrations.0002_load_instruments").load(apps, None)
    assert set(Instrument.objects.values_list("code", "version")) == {("gbt42195", 1), ("barthel", 1)}


def test_a_draft_keeps_each_answer_as_it_is_given(worker, elder):
    a = services.assessment_create(by=worker, elder=elder, place="老人家中")
    services.assessment_answer(by=worker, assessment=a, answers={"B.1.1": 3})
    services.assessment_answer(by=worker, assessment=a, answers={"B.1.2": 2})
    a.refresh_from_db()
    assert a.status == Status.DRAFT
    assert a.answers == {"B.1.1": 3, "B.1.2": 2}
    assert a.score == 5
    services.assessment_answer(by=worker, assessment=a, answers={"B.1.1": None})
    a.refresh_from_db()
    assert a.answers == {"B.1.2": 2}


def test_an_answer_that_is_not_an_option_is_refused_naming_the_item(worker, elder):
    a = services.assessment_create(by=worker, elder=elder)
    with pytest.raises(ValidationError) as exc:
        services.assessment_answer(by=worker, assessment=a, answers={"B.2.4": 4, "X.1": 1})
    text = str(exc.value.message_dict)
    assert "上下楼梯" in text and "0、1、2、3" in text[text.index("上下楼梯") :] or "3、2、1、0" in text
    assert "X.1" in text
    a.refresh_from_db()
    assert a.answers == {}


def test_complete_refuses_missing_items_and_names_them(worker, elder):
    answers = best(GBT)
    del answers["B.3.9"], answers["B.1.4"]
    a = filled(worker, elder, answers)
    with pytest.raises(ValidationError) as exc:
        services.assessment_complete(by=worker, assessment=a)
    message = exc.value.message_dict["answers"][0]
    assert "2 个项目未作答" in message and "B.1.4 穿/脱上衣" in message and "B.3.9 意识水平" in message
    a.refresh_from_db()
    assert a.status == Status.DRAFT
    elder.refresh_from_db()
    assert elder.ability_level == ""


def test_completion_sets_the_level_and_the_category_with_history(worker, elder):
    assert "disabled" not in [c.code for c in categories_of(elder, timezone.localdate())]
    a = filled(worker, elder, SEVERE_43)
    services.assessment_complete(by=worker, assessment=a)
    a.refresh_from_db()
    elder.refresh_from_db()
    assert (a.status, a.score, a.final_level, a.is_latest) == (Status.COMPLETED, 43, "severe", True)
    assert elder.ability_level == "severe"
    assert "disabled" in [c.code for c in categories_of(elder, timezone.localdate())]
    assert ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk, action="ability").get().changes == {
        "ability_level": ["", "severe"]
    }
    assert ChangeRecord.objects.filter(model="assessments.assessment", object_id=a.pk, action="status").exists()
    with pytest.raises(ValidationError):
        services.assessment_complete(by=worker, assessment=a)
    with pytest.raises(ValidationError):
        services.assessment_answer(by=worker, assessment=a, answers={"B.1.1": 0})


def test_adjustments_are_recorded_with_reasons(worker, elder):
    a = filled(worker, elder, MILD_66, {"dementia": True, "risk_events": 2})
    services.assessment_complete(by=worker, assessment=a)
    a.refresh_from_db()
    assert (a.base_level, a.final_level) == ("mild", "moderate")
    assert {x["code"] for x in a.adjustments} == {"dementia_mental", "risk_events"}
    assert all(x["reason"] for x in a.adjustments)


def test_a_later_assessment_replaces_the_latest_and_the_level(worker, elder):
    first = filled(worker, elder, SEVERE_43, on=timezone.localdate() - datetime.timedelta(days=200))
    services.assessment_complete(by=worker, assessment=first)
    second = filled(worker, elder, best(GBT))
    services.assessment_complete(by=worker, assessment=second)
    first.refresh_from_db()
    second.refresh_from_db()
    elder.refresh_from_db()
    assert (first.is_latest, second.is_latest, elder.ability_level) == (False, True, "intact")
    # an older assessment completed afterwards does not take over
    old = filled(worker, elder, SEVERE_43, on=timezone.localdate() - datetime.timedelta(days=400))
    services.assessment_complete(by=worker, assessment=old)
    old.refresh_from_db()
    elder.refresh_from_db()
    assert (old.is_latest, elder.ability_level) == (False, "intact")


@override_settings(ASSESSMENT_INTERVAL_MONTHS=12, ASSESSMENT_SOONER_MONTHS=6)
def test_next_due_yearly_sooner_when_severe_or_changed():
    nd = services.next_due_for
    day = datetime.date(2026, 1, 31)
    assert nd(assessed_on=day, level="intact", previous_level=None) == datetime.date(2027, 1, 31)
    assert nd(assessed_on=day, level="mild", previous_level="mild") == datetime.date(2027, 1, 31)
    assert nd(assessed_on=day, level="severe", previous_level=None) == datetime.date(2026, 7, 31)
    assert nd(assessed_on=day, level="mild", previous_level="intact") == datetime.date(2026, 7, 31)
    assert nd(assessed_on=datetime.date(2025, 8, 31), level="complete", previous_level=None) == datetime.date(2026, 2, 28)


def test_due_list_holds_overdue_and_due_within_30_days_soonest_first(worker, tree):
    today = timezone.localdate()
    elders = [ElderFactory(region=tree.grid) for _ in range(4)]
    # assessed 395 days ago (overdue), 350 days ago (due in ~15 days), 150 days ago (not due), and
    # severe 170 days ago (six months: due in ~13 days)
    days = [395, 350, 150, 170]
    answers = [best(GBT), best(GBT), best(GBT), SEVERE_43]
    for e, d, ans in zip(elders, days, answers, strict=True):
        services.assessment_complete(by=worker, assessment=filled(worker, e, ans, on=today - datetime.timedelta(days=d)))
    due = list(selectors.due_list(user=worker))
    assert [a.elder_id for a in due] == [elders[0].pk, elders[3].pk, elders[1].pk]
    assert due[0].next_due < today <= due[1].next_due <= due[2].next_due <= today + datetime.timedelta(days=30)
    other = make_user("other", "community", tree.community2)
    assert list(selectors.due_list(user=other)) == []


def test_recompute_after_a_cut_off_change_regrades_latest_and_elders(worker, elder, tree, admin_user):
    e2 = ElderFactory(region=tree.grid)
    a1 = filled(worker, elder, MILD_66)  # 66: mild
    services.assessment_complete(by=worker, assessment=a1)
    a2 = filled(worker, e2, MILD_66, {"dementia": True})  # mild + 1 = moderate
    services.assessment_complete(by=worker, assessment=a2)
    new = definition("gbt42195")
    new["levels"][1]["min"] = 70  # 轻度 from 70: 66 becomes 中度
    inst = services.instrument_publish(by=admin_user, definition=new, note="地方口径")
    assert inst.version == 2
    result = services.assessment_recompute(by=admin_user, instrument=inst, batch=1)
    assert result["regraded"] == 2 and result["elders_changed"] == 2
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.base_level, a1.final_level, a1.graded_with) == ("moderate", "moderate", 2)
    assert (a2.base_level, a2.final_level) == ("moderate", "severe")
    assert Elder.objects.get(pk=elder.pk).ability_level == "moderate"
    assert Elder.objects.get(pk=e2.pk).ability_level == "severe"
    records = ChangeRecord.objects.filter(model="elders.elder", object_id=e2.pk, action="ability").order_by("id")
    assert [r.changes["ability_level"] for r in records] == [["", "moderate"], ["moderate", "severe"]]
    # run again: nothing changes, nothing is recorded
    again = services.assessment_recompute(by=admin_user, instrument=inst)
    assert again["elders_changed"] == 0
    assert ChangeRecord.objects.filter(model="elders.elder", action="ability").count() == 4


def test_sql_regrading_agrees_with_scoring_for_every_score_and_adjustment(worker, tree, admin_user):
    """The CASE expressions of the recompute and scoring.adjust are one rule."""
    from assessments.scoring import adjust, level_for

    inst = Instrument.objects.get(code="gbt42195", version=1)
    e = ElderFactory(region=tree.grid)
    rows = []
    for total in range(0, 91, 3):
        for forced, steps in (("", 0), ("", 1), ("", 2), ("complete", 0), ("complete", 1)):
            rows.append(
                Assessment(
                    elder=e,
                    instrument=inst,
                    assessor=worker,
                    assessed_on=timezone.localdate(),
                    score=total,
                    raise_steps=steps,
                    forced_level=forced,
                    status=Status.COMPLETED,
                )
            )
    Assessment.objects.bulk_create(rows)
    # make them "latest" only for the recompute's query (the one-latest-per-elder rule is per elder)
    Assessment.objects.filter(pk__in=[r.pk for r in rows]).update(is_latest=False)
    base, final = services._level_cases(inst.definition)
    got = (
        Assessment.objects.filter(pk__in=[r.pk for r in rows])
        .annotate(b=base, f=final)
        .values_list("score", "raise_steps", "forced_level", "b", "f")
    )
    for total, steps, forced, b, f in got:
        want_base = level_for(inst.definition, total)
        facts = {"coma": forced == "complete", "dementia": steps >= 1, "risk_events": 2 if steps >= 2 else 0}
        stacked = {**inst.definition, "raise_stacks": True}
        want_final = adjust(stacked, want_base, facts)[0]
        assert (b, f) == (want_base, want_final), (total, steps, forced)


def test_publish_refuses_changed_items_and_non_admins(worker, admin_user):
    from django.core.exceptions import PermissionDenied

    new = definition("gbt42195")
    with pytest.raises(PermissionDenied):
        services.instrument_publish(by=worker, definition=new)
    new["items"][0]["options"] = new["items"][0]["options"][:2]
    with pytest.raises(ValidationError) as exc:
        services.instrument_publish(by=admin_user, definition=new)
    assert "评估项目和分值必须与当前版本一致" in str(exc.value)


def test_the_recompute_job_runs_through_the_task_layer(worker, elder, admin_user, django_capture_on_commit_callbacks):
    from jobs.models import Job

    services.assessment_complete(by=worker, assessment=filled(worker, elder, MILD_66))
    new = definition("gbt42195")
    new["levels"][1]["min"] = 70
    inst = services.instrument_publish(by=admin_user, definition=new)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.assessment_recompute_start(by=admin_user, instrument=inst)
    job.refresh_from_db()
    elder.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["elders_changed"] == 1
    assert elder.ability_level == "moderate"


def test_paper_records_entered_together_match_what_the_form_makes(worker, tree):
    """assessments_record_completed (a station's paper records, the demo) leaves what the phone
    form's three steps leave: completed, latest, the level set, the same two history records."""
    on = timezone.localdate() - datetime.timedelta(days=30)
    by_form, together, assessed = (ElderFactory(region=tree.grid, name=n) for n in ("甲", "乙", "丙"))
    a = filled(worker, by_form, SEVERE_43, on=on)
    services.assessment_complete(by=worker, assessment=a)
    older = filled(worker, assessed, best(GBT), on=on - datetime.timedelta(days=100))
    services.assessment_complete(by=worker, assessment=older)
    records = [
        {"elder": together, "assessed_on": on, "answers": SEVERE_43, "facts": {}},
        {"elder": assessed, "assessed_on": on, "answers": MILD_66, "facts": {"dementia": True}},
    ]
    made = services.assessments_record_completed(by=worker, records=records)
    a.refresh_from_db()
    b = Assessment.objects.get(pk=made[0].pk)
    fields = ("status", "score", "final_level", "is_latest", "next_due", "group_scores", "adjustments")
    assert [getattr(b, f) for f in fields] == [getattr(a, f) for f in fields]
    together.refresh_from_db()
    assert together.ability_level == "severe"

    def history(x):
        return sorted(
            (r.action, sorted(r.changes)) for r in ChangeRecord.objects.filter(model="assessments.assessment", object_id=x.pk)
        )

    assert history(b) == history(a)
    # an elder who already has a latest assessment keeps it: records entered from paper never
    # displace one made in the system (the form decides between those by date)
    c = Assessment.objects.get(pk=made[1].pk)
    assert (c.status, c.final_level, c.is_latest) == (Status.COMPLETED, "moderate", False)
    assessed.refresh_from_db()
    assert assessed.ability_level == "intact"


def test_paper_records_with_an_item_missing_write_nothing(worker, tree):
    elder = ElderFactory(region=tree.grid, name="丁")
    partial = dict(best(GBT))
    partial.pop(next(iter(partial)))
    records = [
        {"elder": ElderFactory(region=tree.grid, name="戊"), "assessed_on": timezone.localdate(), "answers": best(GBT)},
        {"elder": elder, "assessed_on": timezone.localdate(), "answers": partial},
    ]
    with pytest.raises(ValidationError) as exc:
        services.assessments_record_completed(by=worker, records=records)
    assert "第 2 份" in str(exc.value) and "未作答" in str(exc.value)
    assert not Assessment.objects.exists()
    assert not ChangeRecord.objects.filter(model="assessments.assessment").exists()
