"""Issue 9, item 2: every route refuses whoever may not use it, with the documented answer.

Every URL pattern (walked from the root resolver, i18n and the API's included) and every API
operation (every path × method of /api/openapi.json) is tried as four users:

- anonymous: a page sends them to the login page; the API answers 401, before it reads the
  body (they send an empty one);
- a role without the route's permission (the strongest role that lacks it, attached to the
  city, so the object is inside their subtree): 403, the permission checked before the
  object is looked up;
- a user of another region (every permission, attached to the other community): 404 for an
  object of 安泰社区; a list answers 200 without 安泰社区's rows; a create form refuses a row
  for 安泰社区;
- a user with no region (every permission, no region node): a clear refusal, 403, never a 500.

Pages are asked with GET and, where the view takes a form, POST with a valid CSRF token;
API operations with their declared method and a body that would be valid for a user who may.
A refused request writes nothing (row counts of every table, and the object's row).
ROUTES and OPERATIONS say what each route expects; a route with no entry fails, so a new app
cannot forget its refusals.
"""

import datetime
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.roles import ROLE_PERMISSIONS, Role
from accounts.services import api_token_create
from conftest import build_tree, make_user
from core.idnumbers import make_id_number
from yinling.api import api

pytestmark = pytest.mark.django_db

# --- what each route expects -------------------------------------------------------------------

NOT_FOUND = "404"  # an object of 安泰社区: 404, its name nowhere in the answer
LIST = "list"  # 200, without 安泰社区's rows (the owner's answer has them)
FORM = "form"  # GET 200; a POST for 安泰社区 is refused on the form (`form_status`) and writes nothing
OWN = "own"  # the route holds only the user's own things (their password, tokens, the role table): allowed
REFUSED = "403"  # a user with no region: 403, a clear refusal
PUBLIC = "public"  # anyone, signed in or not: never a 5xx

HOME_MARK = "欧阳春梅"  # the elder of 安泰社区 whose name must not reach another region
BORN = datetime.date(1940, 5, 1)
ID_NUMBER = make_id_number("110105", BORN, 2)  # hers: no refusal may show it


@dataclass(frozen=True)
class Route:
    """What one page or API operation expects of the four users."""

    perm: str | None  # the permission code; None: any signed-in user
    methods: tuple[str, ...] = ("GET",)
    obj: str | None = None  # what the id in the path names: elder, user, region, parent, job, token
    other: str = NOT_FOUND  # for a user of another region
    no_region: str = REFUSED  # for a user with no region
    mark: str = HOME_MARK  # for LIST: what 安泰社区's owner sees and another region must not
    data: Callable[[Any], dict] | None = None  # the form (pages) or JSON body (API) of a write
    files: bool = False  # the body is an Excel upload (multipart)
    form_status: int = 200  # FORM: the answer to a POST for 安泰社区
    public: bool = False


def _elder_form(w) -> dict:
    return {"region": w.tree.grid.pk, "name": "新登记", "id_number": "11010519491231002X", "sex": "F"}


def _user_form(w) -> dict:
    return {
        "username": "newuser",
        "full_name": "新用户",
        "role": "grid",
        "region": w.tree.grid.pk,
        "password": "Xk9#mqLw2025",
        "is_active": "on",
    }


def _elder_edit(w) -> dict:
    return {"region": w.tree.grid.pk, "name": "改了名", "address": "别处", "version": w.elder.version}


def _status(w) -> dict:
    return {"action": "move_out", "effective_on": timezone.localdate().isoformat(), "reason": "随子女"}


def _new_password(w) -> dict:
    return {"new_password1": "Xk9#mqLw2025", "new_password2": "Xk9#mqLw2025"}


def _merchant_form(w) -> dict:
    return {"region": w.tree.community.pk, "name": "新网点", "kind": "barber", "discount": "8"}


def _merchant_edit(w) -> dict:
    return {"region": w.tree.community.pk, "name": "改了名", "kind": "barber", "version": w.merchant.version}


def _merchant_patch(w) -> dict:
    return {"name": "改了名", "version": w.merchant.version}


def _locate(w) -> dict:
    return {"what": "merchant", "id": w.merchant.pk, "lat": "30.63", "lng": "120.57"}


ALERT_REGION_MARK = "安泰社区"  # the report names communities, not elders
MERCHANT_MARK = "安泰理发店"  # 安泰社区's merchant: another region's lists must not show it

PAIRING_MARK = "欧阳守望"  # 安泰社区's watcher (issue 12): another region's lists must not show her
UNWATCHED_MARK = "独孤无伴"  # 安泰社区's elder living alone without a watcher


def _pairing_form(w) -> dict:
    return {
        "role": "watcher",
        "partner_kind": "neighbour",
        "partner_name": "新邻居",
        "phone": "13900005555",
        "starts_on": timezone.localdate().isoformat(),
    }


ORG_MARK = "康乃馨家政"  # 安泰社区's organisation, its staff member, team and volunteer
STAFF_MARK = "司马秀英"
TEAM_MARK = "安泰党员志愿服务队"
VOLUNTEER_MARK = "诸葛志强"


def _org_form(w) -> dict:
    return {"name": "新机构", "kind": "station", "region": w.tree.community.pk, "status": "active"}


def _caregiver_form(w) -> dict:
    return {"organisation": w.org.pk, "kind": "nanny", "name": "新人"}


def _volunteer_form(w) -> dict:
    return {"region": w.tree.community.pk, "name": "新志愿者", "phone": "13912345678"}


def _item_form(w) -> dict:
    return {
        "category": w.category.pk,
        "code": "new_item",
        "name": "新项目",
        "unit": "visit",
        "price_yuan": "10",
        "duration_minutes": "30",
        "position": "0",
        "is_active": "on",
    }


def _price_form(w) -> dict:
    return {"item": w.item.pk, "price_yuan": "12.50", "valid_from": timezone.localdate().isoformat()}


def _package_form(w) -> dict:
    return {
        "region": w.tree.community.pk,
        "code": "new_pack",
        "name": "新服务包",
        "ability_levels": ["severe"],
        "payment_mode": "government",
        "valid_from": timezone.localdate().isoformat(),
        "is_active": "on",
        "grants-TOTAL_FORMS": "1",
        "grants-INITIAL_FORMS": "0",
        "grants-0-item": w.item.pk,
        "grants-0-quantity": "10",
        "grants-0-unit": "hour",
    }


def _package_body(w) -> dict:
    return {
        "region": w.tree.community.pk,
        "code": "new_pack",
        "name": "新服务包",
        "ability_levels": ["severe"],
        "valid_from": timezone.localdate().isoformat(),
        "grants": [{"item": w.item.pk, "quantity": 10, "unit": "hour"}],
    }


def _need_form(w) -> dict:
    return {"kind": "general", "source": "visit", "description": "需要送餐"}


CUTOFFS = {"intact": (90, 90), "mild": (70, 89), "moderate": (46, 69), "severe": (30, 45), "complete": (0, 29)}


def _cutoff_form(w) -> dict:
    form = {f"levels.{c}.{b}": str(v) for c, (lo, hi) in CUTOFFS.items() for b, v in (("min", lo), ("max", hi))}
    return {**form, "note": "地方口径", "recompute": "on"}


def _absence_form(w) -> dict:
    return {"caregiver": w.caregiver.pk, "starts_on": timezone.localdate().isoformat(), "reason": "leave"}


def _cutoff_body(w) -> dict:
    levels = [{"code": c, "min": lo, "max": hi} for c, (lo, hi) in CUTOFFS.items()]
    return {"levels": levels, "note": "地方口径", "recompute": True}


def _desk_order_form(w) -> dict:
    day = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    return {"item": w.item.pk, "day": day, "time": "09:00", "quantity": "1", "source": "hotline"}


def _plan_form(w) -> dict:
    starts = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    return {
        "item": w.item.pk,
        "pattern": "weekly",
        "weekdays": ["FR"],
        "calendar": "all_days",
        "starts_on": starts,
        "start_time": "10:00",
        "duration_minutes": "60",
        "quantity": "1",
    }


def _plan_body(w) -> dict:
    starts = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    return {
        "elder": w.elder.pk,
        "item": w.item.pk,
        "rrule": "FREQ=WEEKLY;BYDAY=FR",
        "starts_on": starts,
        "start_time": "10:00",
        "duration_minutes": 60,
    }


def _agreement_form(w) -> dict:
    return {
        "valid_from": timezone.localdate().isoformat(),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-item": w.item.pk,
        "lines-0-quantity": "4",
        "lines-0-frequency": "month",
        "lines-0-payer": "elder",
    }


def _agreement_body(w) -> dict:
    lines = [{"item": w.item.pk, "quantity": 4, "frequency": "month", "payer": "elder"}]
    return {"elder": w.elder.pk, "valid_from": timezone.localdate().isoformat(), "lines": lines}


PACKAGE_MARK = "安泰重度失能护理包"
NEED_MARK = "安泰社区的需求：助浴"
CAMPAIGN_MARK = "安泰高温探访"  # 安泰社区's campaign (visits)


def _care_visit_form(w) -> dict:
    return {"elder": w.elder.pk, "via": "phone", "c_health": "good", "outcome": "normal"}


def _rules_form(w) -> dict:
    return {
        "region": w.tree.community.pk,
        "t0_active": "on",
        "t0_tier": "x",
        "t0_label": "独居",
        "t0_period": "month",
        "t0_c0_categories": "lives_alone",
    }


def _campaign_form(w) -> dict:
    return {"region": w.tree.community.pk, "name": "寒潮探访", "reason": "cold", "categories": "lives_alone", "hours": "48"}


def _event_form(w) -> dict:
    return {"elder": w.elder.pk, "kind": "fall", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}


SETTLE_MARK = "安泰社区·老人自付"  # 安泰社区's elders' statement of last month


def _settle_form(w) -> dict:
    from settlements.selectors import previous_month

    return {"month": f"{previous_month():%Y-%m}", "region": w.tree.community.pk}


# Pages: the key is the URL pattern as the resolver spells it.
QUALITY_WORKER_MARK = "上官守诚"  # the caregiver of 安泰社区's late visit (the supervision board)


def _this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def _tomorrow_at_9() -> str:
    start = timezone.localtime() + datetime.timedelta(days=1)
    return start.replace(hour=9, minute=0, second=0, microsecond=0).isoformat()


def _family_link_body(w) -> dict:
    return {
        "account": "anfamily2",
        "relation": "child",
        "consent_on": timezone.localdate().isoformat(),
        "consent_note": "签字同意书",
    }


TB_BANK_MARK = "安泰社区爱心时间银行"


def _give_form(w) -> dict:
    return {"to_number": str(w.tb_member.pk), "to_name": HOME_MARK, "minutes": "10"}


def _give_body(w) -> dict:
    return {"to_number": w.tb_member.pk, "to_name": HOME_MARK, "minutes": 10}


ROUTES: dict[str, Route] = {
    "accounts/login/": Route(None, ("GET", "POST"), public=True, data=lambda w: {"username": "x", "password": "y"}),
    "accounts/logout/": Route(None, ("POST",), public=True),
    "i18n/setlang/": Route(None, ("POST",), public=True, data=lambda w: {"language": "en"}),
    "healthz": Route(None, public=True),
    "": Route(None, other=OWN, no_region=OWN),  # the desk
    "accounts/password/": Route(
        None,
        ("GET", "POST"),
        other=OWN,
        no_region=OWN,
        data=lambda w: {"old_password": "demo12345", "new_password1": "Xk9#mqLw2025", "new_password2": "Xk9#mqLw2025"},
    ),
    "accounts/tokens/": Route(None, other=OWN, no_region=OWN),
    "accounts/tokens/<int:token_id>/end/": Route(None, ("POST",), obj="token", no_region=NOT_FOUND),
    "accounts/roles/": Route("accounts.view_user", other=OWN),  # the role table: no region's data, but refused like every page
    "accounts/users/": Route("accounts.view_user", other=LIST, mark="安泰网格员"),
    "accounts/users/new/": Route("accounts.add_user", ("GET", "POST"), other=FORM, data=_user_form),
    "accounts/users/<int:user_id>/": Route(
        "accounts.change_user",
        ("GET", "POST"),
        obj="user",
        data=lambda w: {"full_name": "改了名", "role": "community", "region": w.tree.grid.pk, "is_active": "on"},
    ),
    "accounts/users/<int:user_id>/end-sessions/": Route("accounts.change_user", ("POST",), obj="user"),
    "accounts/users/<int:user_id>/password/": Route("accounts.change_user", ("GET", "POST"), obj="user", data=_new_password),
    "regions/": Route("regions.view_region", other=LIST, mark="安泰第一网格"),
    "regions/<int:parent_id>/add/": Route("regions.add_region", ("GET", "POST"), obj="parent", data=lambda w: {"name": "新网格"}),
    "regions/<int:region_id>/edit/": Route(
        "regions.change_region", ("GET", "POST"), obj="region", data=lambda w: {"name": "改名网格"}
    ),
    "audit/access/": Route("audit.view_accesslog", other=LIST, mark="安泰专员"),
    "elders/": Route("elders.view_elder", ("GET", "POST"), other=LIST, data=lambda w: {"q": "欧阳"}),
    "elders/new/": Route("elders.add_elder", ("GET", "POST"), other=FORM, data=_elder_form),
    # Another region may import into its own communities; rows for 安泰社区 are refused row by
    # row (elders/tests/test_import_views.py::test_upload_by_a_user_of_another_community_refuses_rows_for_antai).
    "elders/import/": Route("elders.import_elder", ("GET", "POST"), other=OWN, files=True),
    "elders/import/template.xlsx": Route("elders.import_elder", other=OWN),
    "elders/import/<int:job_id>/confirm/": Route("elders.import_elder", ("POST",), obj="job"),
    # Another region exports its own scope (elders/tests/test_export.py::test_community2_export_*).
    "elders/export/": Route("elders.export_elder", ("POST",), other=OWN, data=lambda w: {"status": "all"}),
    "elders/id-check/": Route(None, ("POST",), other=OWN, no_region=OWN, data=lambda w: {"id_number": "11010519491231002X"}),
    "elders/duplicates/": Route("elders.merge_elder", other=LIST),
    "elders/merge/": Route("elders.merge_elder", ("POST",), data=lambda w: {"keep": w.elder.pk, "other": w.twin.pk}),
    "elders/<int:elder_id>/": Route("elders.view_elder", obj="elder"),
    "elders/<int:elder_id>/edit/": Route("elders.change_elder", ("GET", "POST"), obj="elder", data=_elder_edit),
    "elders/<int:elder_id>/status/": Route("elders.status_elder", ("GET", "POST"), obj="elder", data=_status),
    "elders/<int:elder_id>/reveal/": Route("elders.reveal_elder", ("POST",), obj="elder"),
    "jobs/": Route("jobs.view_job", other=LIST, mark="安泰名单.xlsx"),
    "merchants/": Route("merchants.view_merchant", other=LIST, mark=MERCHANT_MARK),
    "merchants/new/": Route("merchants.change_merchant", ("GET", "POST"), other=FORM, data=_merchant_form),
    "merchants/map/": Route("merchants.view_merchant", other=LIST, mark=MERCHANT_MARK),
    "merchants/map/locate/": Route("merchants.view_merchant", ("POST",), data=_locate),
    "merchants/coverage/": Route("merchants.view_merchant", other=LIST, mark="安泰社区"),
    "merchants/coverage/job/": Route("merchants.view_merchant", ("POST",), data=lambda w: {"region": w.tree.community.pk}),
    "merchants/import/": Route("merchants.import_merchant", ("GET", "POST"), other=OWN, files=True),
    "merchants/import/template.xlsx": Route("merchants.import_merchant", other=OWN),
    "merchants/import/<int:job_id>/confirm/": Route("merchants.import_merchant", ("POST",), obj="job"),
    "merchants/export/": Route("merchants.export_merchant", ("POST",), other=OWN),
    "merchants/circle/elder/<int:elder_id>/": Route("merchants.view_merchant", obj="elder"),
    "merchants/<int:merchant_id>/": Route("merchants.view_merchant", obj="merchant"),
    "merchants/<int:merchant_id>/edit/": Route("merchants.change_merchant", ("GET", "POST"), obj="merchant", data=_merchant_edit),
    "jobs/<int:job_id>/": Route("jobs.view_job", obj="job"),
    "jobs/<int:job_id>/download/": Route("jobs.view_job", obj="job"),
    "jobs/<int:job_id>/rerun/": Route("jobs.view_job", ("POST",), obj="job"),
    # 接收迁入 looks a number up across the register by design; what it may show of another
    # community is tested in elders/tests/test_receive.py (only a moved-out record's name,
    # masked number and date). The lookup is logged, so it is "allowed", not a pure refusal.
    "elders/receive/": Route("elders.add_elder", ("GET", "POST"), other=OWN, data=lambda w: {"id_number": ID_NUMBER}),
    # Providers (docs/providers.md): organisations, staff and certificates of 安泰社区, its
    # teams and volunteers. An organisation's own users: test_another_organisations_user_gets_404.
    "providers/organisations/": Route("providers.view_organisation", other=LIST, mark=ORG_MARK),
    "providers/organisations/new/": Route("providers.add_organisation", ("GET", "POST"), other=FORM, data=_org_form),
    "providers/organisations/<int:organisation_id>/": Route("providers.view_organisation", obj="organisation"),
    "providers/organisations/<int:organisation_id>/edit/": Route(
        "providers.change_organisation", ("GET", "POST"), obj="organisation", data=lambda w: {**_org_form(w), "name": "改名"}
    ),
    "providers/staff/": Route("providers.view_caregiver", other=LIST, mark=STAFF_MARK),
    "providers/staff/new/": Route("providers.add_caregiver", ("GET", "POST"), other=FORM, data=_caregiver_form),
    "providers/staff/import/": Route("providers.import_caregiver", ("GET", "POST"), other=OWN, files=True),
    "providers/staff/import/template.xlsx": Route("providers.import_caregiver", other=OWN),
    "providers/staff/import/<int:job_id>/confirm/": Route("providers.import_caregiver", ("POST",), obj="job"),
    "providers/staff/export/": Route("providers.export_caregiver", ("POST",), other=OWN),
    "providers/staff/<int:caregiver_id>/": Route("providers.view_caregiver", obj="caregiver"),
    "providers/staff/<int:caregiver_id>/edit/": Route(
        "providers.change_caregiver", ("GET", "POST"), obj="caregiver", data=lambda w: {"kind": "nanny", "name": "改了名"}
    ),
    "providers/staff/<int:caregiver_id>/status/": Route(
        "providers.change_caregiver", ("POST",), obj="caregiver", data=lambda w: {"action": "leave"}
    ),
    "providers/staff/<int:caregiver_id>/reveal/": Route(
        "providers.reveal_caregiver", ("POST",), obj="caregiver", data=lambda w: {"reason": "安排服务"}
    ),
    "providers/staff/<int:caregiver_id>/certificates/new/": Route(
        "providers.change_caregiver", ("GET", "POST"), obj="caregiver", data=lambda w: {"kind": w.cert.kind_id, "number": "N1"}
    ),
    "providers/certificates/expiring/": Route("providers.view_caregiver", other=LIST, mark=STAFF_MARK),
    "providers/certificates/<int:certificate_id>/edit/": Route(
        "providers.change_caregiver", ("GET", "POST"), obj="certificate", data=lambda w: {"kind": w.cert.kind_id, "number": "N2"}
    ),
    "providers/certificates/<int:certificate_id>/delete/": Route("providers.change_caregiver", ("POST",), obj="certificate"),
    "providers/teams/": Route("providers.view_team", other=LIST, mark=TEAM_MARK),
    "providers/teams/new/": Route(
        "providers.change_team",
        ("GET", "POST"),
        other=FORM,
        data=lambda w: {"region": w.tree.community.pk, "kind": "party", "name": "新队"},
    ),
    "providers/teams/<int:team_id>/edit/": Route(
        "providers.change_team", ("GET", "POST"), obj="team", data=lambda w: {"kind": "party", "name": "改名队"}
    ),
    "providers/volunteers/": Route("providers.view_volunteer", other=LIST, mark=VOLUNTEER_MARK),
    "providers/volunteers/new/": Route("providers.add_volunteer", ("GET", "POST"), other=FORM, data=_volunteer_form),
    "providers/volunteers/import/": Route("providers.import_volunteer", ("GET", "POST"), other=OWN, files=True),
    "providers/volunteers/import/template.xlsx": Route("providers.import_volunteer", other=OWN),
    "providers/volunteers/import/<int:job_id>/confirm/": Route("providers.import_volunteer", ("POST",), obj="job"),
    "providers/volunteers/export/": Route("providers.export_volunteer", ("POST",), other=OWN),
    "providers/volunteers/<int:volunteer_id>/": Route("providers.view_volunteer", obj="volunteer"),
    "providers/volunteers/<int:volunteer_id>/edit/": Route(
        "providers.change_volunteer", ("GET", "POST"), obj="volunteer", data=lambda w: {"name": "改了名"}
    ),
    "providers/volunteers/<int:volunteer_id>/reveal/": Route(
        "providers.reveal_volunteer", ("POST",), obj="volunteer", data=lambda w: {"reason": "联系志愿服务"}
    ),
    "providers/volunteers/<int:volunteer_id>/decide/": Route(
        "providers.approve_volunteer", ("POST",), obj="volunteer", data=lambda w: {"action": "approve"}
    ),
    # The catalogue is one vocabulary for the whole platform: any region reads it, admins edit it.
    "catalogue/": Route("catalogue.view_serviceitem", other=OWN),
    "catalogue/items/new/": Route("catalogue.change_serviceitem", ("GET", "POST"), other=OWN, data=_item_form),
    "catalogue/items/<int:item_id>/": Route("catalogue.view_serviceitem", obj="item", other=OWN),
    "catalogue/items/<int:item_id>/edit/": Route(
        "catalogue.change_serviceitem", ("GET", "POST"), obj="item", other=OWN, data=_item_form
    ),
    "catalogue/vocabulary/": Route("catalogue.view_serviceitem", other=OWN),
    "catalogue/categories/new/": Route(
        "catalogue.change_serviceitem",
        ("GET", "POST"),
        other=OWN,
        data=lambda w: {"code": "c_new", "name": "新类别", "scheme": "service", "position": "9"},
    ),
    "catalogue/categories/<int:pk>/edit/": Route(
        "catalogue.change_serviceitem",
        ("GET", "POST"),
        obj="category",
        other=OWN,
        data=lambda w: {"code": w.category.code, "name": "改名类别", "scheme": "service", "position": "1"},
    ),
    "catalogue/skills/new/": Route(
        "catalogue.change_serviceitem", ("GET", "POST"), other=OWN, data=lambda w: {"code": "s_new", "name": "新技能"}
    ),
    "catalogue/skills/<int:pk>/edit/": Route(
        "catalogue.change_serviceitem",
        ("GET", "POST"),
        obj="skill",
        other=OWN,
        data=lambda w: {"code": w.skill.code, "name": "改名技能"},
    ),
    "catalogue/certificates/new/": Route(
        "catalogue.change_serviceitem",
        ("GET", "POST"),
        other=OWN,
        data=lambda w: {"code": "k_new", "name": "新证书", "family": "k_new", "rank": "1"},
    ),
    "catalogue/certificates/<int:pk>/edit/": Route(
        "catalogue.change_serviceitem",
        ("GET", "POST"),
        obj="certificate_kind",
        other=OWN,
        data=lambda w: {"code": w.certificate.code, "name": "改名证书", "family": w.certificate.family, "rank": "1"},
    ),
    # Price lists and packages are set on region nodes: another region gets 404 for 安泰社区's.
    "catalogue/prices/": Route("catalogue.view_pricelist", other=LIST, mark="安泰社区"),
    "catalogue/prices/<int:region_id>/": Route("catalogue.view_pricelist", ("GET", "POST"), obj="region", data=_price_form),
    "catalogue/prices/entries/<int:entry_id>/delete/": Route("catalogue.change_pricelist", ("POST",), obj="price_entry"),
    "catalogue/packages/": Route("catalogue.view_entitlementpackage", other=LIST, mark=PACKAGE_MARK),
    "catalogue/packages/new/": Route(
        "catalogue.change_entitlementpackage", ("GET", "POST"), other=FORM, form_status=422, data=_package_form
    ),
    "catalogue/packages/<int:package_id>/edit/": Route(
        "catalogue.change_entitlementpackage", ("GET", "POST"), obj="package", data=_package_form
    ),
    # Emergency alerts (issue 12, docs/alerts.md). The respond routes take no region (a relative's
    # account has none) but reach only the alerts in scope or whose chain reaches the user.
    "alerts/": Route("alerts.view_alert", other=LIST),
    "alerts/board/": Route("alerts.view_alert", other=LIST),
    "alerts/board/partial/": Route("alerts.view_alert", other=LIST),
    "alerts/mine/": Route("alerts.respond_alert", other=LIST, no_region=OWN),
    "alerts/new/": Route("alerts.add_alert", other=OWN),
    "alerts/elder/<int:elder_id>/new/": Route(
        "alerts.add_alert", ("GET", "POST"), obj="elder", data=lambda w: {"source": "hotline", "kind": "sos"}
    ),
    "alerts/<int:alert_id>/": Route("alerts.view_alert", obj="alert"),
    "alerts/<int:alert_id>/respond/": Route("alerts.respond_alert", obj="alert"),
    "alerts/<int:alert_id>/acknowledge/": Route("alerts.respond_alert", ("POST",), obj="alert"),
    "alerts/<int:alert_id>/resolve/": Route(
        "alerts.respond_alert", ("POST",), obj="alert", data=lambda w: {"outcome": "false_alarm"}
    ),
    "alerts/<int:alert_id>/note/": Route("alerts.respond_alert", ("POST",), obj="alert", data=lambda w: {"text": "已电话联系"}),
    "alerts/devices/": Route("alerts.view_device", other=LIST),
    "alerts/devices/elder/<int:elder_id>/new/": Route(
        "alerts.change_device",
        ("GET", "POST"),
        obj="elder",
        data=lambda w: {"kind": "watch", "number": "RT-NEW-1", "installed_on": "2026-01-05", "heartbeat_minutes": "60"},
    ),
    "alerts/devices/<int:device_id>/": Route("alerts.view_device", obj="device"),
    "alerts/devices/<int:device_id>/token/": Route("alerts.change_device", ("POST",), obj="device"),
    "alerts/devices/<int:device_id>/retire/": Route(
        "alerts.change_device", ("POST",), obj="device", data=lambda w: {"reason": "更换"}
    ),
    "alerts/policy/": Route("alerts.view_alert", other=OWN),
    "alerts/policy/<int:region_id>/": Route("alerts.view_alert", obj="parent"),
    "alerts/policy/<int:region_id>/edit/": Route(
        "alerts.change_escalationpolicy", ("POST",), obj="parent", data=lambda w: {"target": ["watcher"], "wait": ["3"]}
    ),
    "alerts/report/": Route("alerts.view_alert", other=LIST, mark=ALERT_REGION_MARK),
    "needs/": Route("needs.view_need", other=LIST, mark=NEED_MARK),
    "needs/elder/<int:elder_id>/new/": Route("needs.add_need", ("GET", "POST"), obj="elder", data=_need_form),
    "needs/<int:need_id>/": Route("needs.view_need", obj="need"),
    "needs/<int:need_id>/move/": Route("needs.change_need", ("POST",), obj="need", data=lambda w: {"action": "plan"}),
    # Pairing (issue 12, docs/pairing.md). The watcher's phone page has its own guard (a neighbour's
    # account has no region): it holds only the account's own pairings (OWN); another's is a 404.
    "pairing/": Route("pairing.view_pairing", other=LIST, mark=PAIRING_MARK),
    "pairing/unwatched/": Route("pairing.view_pairing", other=LIST, mark=UNWATCHED_MARK),
    "pairing/mine/": Route("pairing.watch_pairing", other=OWN, no_region=OWN),
    "pairing/mine/<int:pairing_id>/phone/": Route("pairing.watch_pairing", ("POST",), obj="pairing", no_region=NOT_FOUND),
    "pairing/elder/<int:elder_id>/new/": Route("pairing.change_pairing", ("GET", "POST"), obj="elder", data=_pairing_form),
    "pairing/<int:pairing_id>/": Route("pairing.view_pairing", obj="pairing"),
    "pairing/<int:pairing_id>/end/": Route(
        "pairing.change_pairing", ("POST",), obj="pairing", data=lambda w: {"reason": "搬走了"}
    ),
    # Care visits (docs/visits.md).
    "visits/": Route("visits.view_visit", other=LIST),
    "visits/mine/": Route("visits.add_visit", other=LIST),
    "visits/new/": Route("visits.add_visit", ("GET", "POST"), data=_care_visit_form),
    "visits/new/sw.js": Route(None, public=True),
    "visits/records/": Route("visits.view_visit", other=LIST),
    "visits/records/export/": Route("visits.export_visit", ("POST",), other=OWN),
    "visits/records/<int:visit_id>/": Route("visits.view_visit", obj="care_visit"),
    "visits/rate/": Route("visits.view_visit", other=LIST, mark="安泰社区"),
    "visits/rate/missed/": Route("visits.view_visit", other=LIST),
    "visits/rules/": Route("visits.view_visit", other=OWN),
    "visits/rules/edit/": Route("visits.change_visitrule", ("GET", "POST"), other=FORM, form_status=404, data=_rules_form),
    "visits/campaigns/": Route("visits.view_visit", other=LIST, mark=CAMPAIGN_MARK),
    "visits/campaigns/new/": Route("visits.change_visitrule", ("GET", "POST"), other=FORM, form_status=404, data=_campaign_form),
    "visits/campaigns/<int:campaign_id>/": Route("visits.view_visit", obj="campaign"),
    "visits/events/new/": Route("visits.change_visitrule", ("GET", "POST"), data=_event_form),
    "assessments/": Route("assessments.view_assessment", other=LIST),
    "assessments/due/": Route("assessments.view_assessment", other=LIST),
    "assessments/new/<int:elder_id>/": Route(
        "assessments.add_assessment", ("GET", "POST"), obj="elder", data=lambda w: {"instrument": "gbt42195", "reason": "first"}
    ),
    "assessments/<int:pk>/": Route("assessments.view_assessment", obj="assessment"),
    "assessments/<int:pk>/fill/": Route(
        "assessments.change_assessment", ("GET", "POST"), obj="assessment", data=lambda w: {"item:B.1.1": "1"}
    ),
    "assessments/<int:pk>/answer/": Route(
        "assessments.change_assessment", ("POST",), obj="assessment", data=lambda w: {"item:B.1.1": "1"}
    ),
    "assessments/<int:pk>/complete/": Route("assessments.change_assessment", ("POST",), obj="assessment"),
    "assessments/<int:pk>/report.pdf": Route("assessments.view_assessment", obj="assessment"),
    # Instruments are one platform-wide reference (as the catalogue): no region's data; any
    # region's admin reads them, and publish_instrument (admins only) publishes a version.
    "assessments/instruments/": Route("assessments.view_assessment", other=OWN),
    "assessments/instruments/<slug:code>/publish/": Route(
        "assessments.publish_instrument", ("GET", "POST"), obj="instrument", other=OWN, data=_cutoff_form
    ),
    # The order desk, the hotline, recurring plans and agreements (issue 11, docs/orders.md).
    "orders/": Route("orders.view_order", other=LIST),
    "orders/<int:order_id>/": Route("orders.view_order", obj="order"),
    "orders/<int:order_id>/dispatch/": Route(
        "orders.dispatch_order", ("POST",), obj="order", data=lambda w: {"organisation": w.org.pk}
    ),
    "orders/<int:order_id>/reject/": Route("orders.serve_order", ("POST",), obj="order", data=lambda w: {"reason": "时间冲突"}),
    "orders/<int:order_id>/cancel/": Route("orders.cancel_order", ("POST",), obj="order", data=lambda w: {"reason": "老人住院"}),
    "orders/<int:order_id>/dispute/": Route(
        "orders.resolve_visitexception", ("POST",), obj="delivered_order", data=lambda w: {"reason": "家属来电说那天没人上门"}
    ),
    # The hotline looks a number up in the user's own subtree and logs it (a search, as the
    # elder list's): allowed, finding nothing of 安泰社区 (orders/tests/test_hotline.py).
    "orders/hotline/": Route("orders.add_order", ("GET", "POST"), other=OWN, data=lambda w: {"phone": "13812345678"}),
    "orders/new/": Route("orders.add_order", other=OWN),
    "orders/new/<int:elder_id>/": Route("orders.add_order", ("GET", "POST"), obj="elder", data=_desk_order_form),
    "orders/elder/<int:elder_id>/": Route("orders.view_order", obj="elder"),
    "orders/plans/": Route("orders.view_orderplan", other=LIST),
    "orders/plans/new/": Route("orders.change_orderplan", other=OWN),
    "orders/plans/new/<int:elder_id>/": Route("orders.change_orderplan", ("GET", "POST"), obj="elder", data=_plan_form),
    # The preview reads only the rule the form sends: nobody's data.
    "orders/plans/preview/": Route("orders.change_orderplan", ("POST",), other=OWN, data=_plan_form),
    "orders/plans/<int:plan_id>/": Route("orders.view_orderplan", obj="plan"),
    "orders/plans/<int:plan_id>/edit/": Route("orders.change_orderplan", ("GET", "POST"), obj="plan", data=_plan_form),
    "orders/plans/<int:plan_id>/end/": Route(
        "orders.change_orderplan",
        ("POST",),
        obj="plan",
        data=lambda w: {"ends_on": timezone.localdate().isoformat(), "reason": "老人住院"},
    ),
    "orders/agreements/": Route("orders.view_agreement", other=LIST),
    "orders/agreements/new/": Route("orders.change_agreement", other=OWN),
    "orders/agreements/new/<int:elder_id>/": Route("orders.change_agreement", ("GET", "POST"), obj="elder", data=_agreement_form),
    "orders/agreements/<int:agreement_id>/": Route("orders.view_agreement", obj="agreement"),
    "orders/agreements/<int:agreement_id>/sign/": Route(
        "orders.change_agreement",
        ("POST",),
        obj="agreement",
        data=lambda w: {"signatory": "欧阳春梅", "signed_on": timezone.localdate().isoformat()},
    ),
    "orders/agreements/<int:agreement_id>/end/": Route(
        "orders.change_agreement", ("POST",), obj="agreement", data=lambda w: {"reason": "老人去外地"}
    ),
    "orders/agreements/<int:agreement_id>/agreement.pdf": Route("orders.view_agreement", obj="agreement"),
    # Evaluation and supervision (docs/orders-quality.md). The board names workers, not elders:
    # its mark is the caregiver of 安泰社区's late visit.
    "orders/supervision/": Route("orders.view_followup", other=LIST, mark=QUALITY_WORKER_MARK),
    "orders/supervision/orders/": Route("orders.view_followup", other=LIST),
    "orders/scorecard/<int:organisation_id>/": Route("orders.view_followup", obj="organisation"),
    "orders/scorecard/<int:organisation_id>/apply/": Route(
        "providers.change_organisation", ("POST",), obj="organisation", data=lambda w: {"month": _this_month()}
    ),
    "orders/call-backs/": Route("orders.view_followup", other=LIST),
    "orders/call-backs/<int:call_back_id>/": Route(
        "orders.view_followup", ("GET", "POST"), obj="call_back", data=lambda w: {"reached": "no", "note": "无人接听"}
    ),
    "orders/follow-ups/": Route("orders.view_followup", other=LIST),
    "orders/follow-ups/<int:follow_up_id>/": Route("orders.view_followup", obj="follow_up"),
    "orders/follow-ups/<int:follow_up_id>/close/": Route(
        "orders.change_followup", ("POST",), obj="follow_up", data=lambda w: {"outcome": "已处理"}
    ),
    "orders/<int:order_id>/complaint/": Route(
        "orders.change_followup", ("GET", "POST"), obj="delivered_order", data=lambda w: {"note": "家属投诉"}
    ),
    "orders/family-links/": Route("orders.view_familylink", other=LIST),
    "orders/family-links/elder/<int:elder_id>/new/": Route(
        "orders.change_familylink", ("GET", "POST"), obj="elder", data=lambda w: _family_link_body(w)
    ),
    "orders/family-links/<int:link_id>/end/": Route("orders.change_familylink", ("POST",), obj="family_link"),
    # The family portal has its own guard (orders.family.portal_check): a relative's account has no
    # region, so an account without one is its normal user, allowed where the page holds only the
    # account's own links (OWN); an elder or order it is not linked to is a 404 for anyone.
    "family/": Route("orders.portal_order", other=OWN, no_region=OWN),
    "family/elders/<int:elder_id>/": Route("orders.portal_order", obj="elder", no_region=NOT_FOUND),
    "family/elders/<int:elder_id>/order/": Route("orders.portal_order", obj="elder", no_region=NOT_FOUND),
    "family/elders/<int:elder_id>/order/<int:item_id>/": Route(
        "orders.portal_order", ("GET", "POST"), obj="elder", no_region=NOT_FOUND, data=lambda w: {"when": _tomorrow_at_9()}
    ),
    "family/orders/<int:order_id>/": Route("orders.portal_order", obj="delivered_order", no_region=NOT_FOUND),
    "family/orders/<int:order_id>/rate/": Route(
        "orders.portal_order", ("GET", "POST"), obj="delivered_order", no_region=NOT_FOUND, data=lambda w: {"rating": "5"}
    ),
    # The visit (EVV, issue 11): the caregiver's phone holds only the worker's own visits (another
    # region's user has none); the service worker is code, public; the community's queues.
    "orders/my/": Route("orders.serve_order", other=OWN),
    "orders/my/sw.js": Route(None, public=True),
    "orders/my/stray/": Route(
        "orders.serve_order",
        ("GET", "POST"),
        other=FORM,
        form_status=422,
        data=lambda w: {"elder": w.elder.pk, "note": "临时上门"},
    ),
    "orders/my/<int:order_id>/": Route("orders.serve_order", obj="order"),
    # 接单 and 拒单 from the phone: another region's worker gets 404, as for the visit page.
    "orders/my/<int:order_id>/accept/": Route("orders.serve_order", ("POST",), obj="order"),
    "orders/my/<int:order_id>/reject/": Route(
        "orders.serve_order", ("POST",), obj="order", data=lambda w: {"reason": "孩子生病"}
    ),
    "orders/exceptions/": Route("orders.view_visitexception", other=LIST),
    "orders/exceptions/<int:exception_id>/resolve/": Route(
        "orders.resolve_visitexception",
        ("POST",),
        obj="visit_exception",
        data=lambda w: {"resolution": "accepted", "note": "已核实"},
    ),
    "orders/stray-checkins/": Route("orders.view_visitexception", other=LIST, mark=STAFF_MARK),
    "orders/stray-checkins/<int:stray_id>/resolve/": Route(
        "orders.resolve_visitexception", ("POST",), obj="stray", data=lambda w: {"order": "dismiss", "note": "误操作"}
    ),
    # Day routes (docs/routing.md): 康乃馨家政's plan of tomorrow, one stop of it.
    "routing/": Route("routing.view_dayplan", other=LIST, mark=ORG_MARK),
    "routing/new/": Route(
        "routing.plan_dayplan",
        ("GET", "POST"),
        other=FORM,
        data=lambda w: {"owner": f"org:{w.org.pk}", "day": _tomorrow().isoformat(), "kind": "care"},
    ),
    "routing/<int:plan_id>/": Route("routing.view_dayplan", obj="day_plan"),
    "routing/<int:plan_id>/replan/": Route("routing.plan_dayplan", ("POST",), obj="day_plan"),
    "routing/<int:plan_id>/apply/": Route("routing.plan_dayplan", ("POST",), obj="day_plan"),
    "routing/stops/<int:stop_id>/move/": Route(
        "routing.plan_dayplan", ("POST",), obj="planned_stop", data=lambda w: {"person": w.caregiver.pk}
    ),
    # Dispatch (docs/orders-dispatch.md): the board lists today's waiting order of 安泰社区.
    "orders/board/": Route("orders.dispatch_order", other=LIST),
    "orders/board/<int:order_id>/": Route("orders.dispatch_order", obj="order"),
    "orders/board/<int:order_id>/send/": Route(
        "orders.dispatch_order", ("POST",), obj="order", data=lambda w: {"pick": f"caregiver:{w.caregiver.pk}"}
    ),
    "orders/preferences/<int:elder_id>/": Route(
        "orders.dispatch_order", ("GET", "POST"), obj="elder", data=lambda w: {"caregiver_sex": "F", "languages": "粤语"}
    ),
    "orders/absences/": Route("providers.change_caregiver", ("GET", "POST"), other=FORM, data=_absence_form),
    "orders/absences/<int:absence_id>/delete/": Route("providers.change_caregiver", ("POST",), obj="absence"),
    # Settlements (docs/settlements.md): 安泰社区's statements of last month, a share and its order.
    "settlements/": Route("settlements.view_statement", other=LIST, mark=SETTLE_MARK),
    "settlements/build/": Route("settlements.issue_statement", ("POST",), data=_settle_form),
    "settlements/issue/": Route("settlements.issue_statement", ("POST",), data=_settle_form),
    "settlements/<int:statement_id>/": Route("settlements.view_statement", obj="statement"),
    "settlements/<int:statement_id>/issue/": Route("settlements.issue_statement", ("POST",), obj="statement"),
    "settlements/<int:statement_id>/export/": Route("settlements.export_statement", ("POST",), obj="statement"),
    "settlements/orders/<int:order_id>/": Route("settlements.view_statement", obj="settle_order"),
    "settlements/shares/<int:share_id>/correct/": Route(
        "settlements.issue_statement", ("GET", "POST"), obj="share", data=lambda w: {"amount": "10.00", "note": "核实服务时长"}
    ),
    # The time bank (docs/timebank.md): 安泰社区's bank, her membership (her name is the mark) and
    # its proxy. The figures hold no names (OWN); /timebank/me/ holds only the user's own account,
    # so a user without region or of another region is allowed there and has nothing to give.
    "timebank/": Route("timebank.view_bank", other=LIST),
    "timebank/banks/<int:bank_id>/join/": Route(
        "timebank.change_member", ("GET", "POST"), obj="tb_bank", data=lambda w: {"name": "新会员", "region": w.tree.grid.pk}
    ),
    "timebank/banks/<int:bank_id>/settings/": Route(
        "timebank.change_bank",
        ("GET", "POST"),
        obj="tb_bank",
        data=lambda w: {
            "name": "改了名",
            "credit_line_minutes": "0",
            **{
                f"rate_{c}": "1000"
                for c in (
                    "mutual_care",
                    "relief",
                    "tutoring",
                    "legal_aid",
                    "security",
                    "health_care",
                    "health_talk",
                    "education",
                    "culture",
                    "environment",
                )
            },
        },
    ),
    "timebank/banks/<int:bank_id>/levels/": Route("timebank.change_bank", ("POST",), obj="tb_bank"),
    "timebank/members/<int:member_id>/": Route("timebank.view_bank", obj="tb_member"),
    "timebank/members/<int:member_id>/decide/": Route(
        "timebank.change_member", ("POST",), obj="tb_member", data=lambda w: {"decision": "refuse", "reason": "测试"}
    ),
    "timebank/members/<int:member_id>/leave/": Route("timebank.change_member", ("POST",), obj="tb_member"),
    "timebank/members/<int:member_id>/move/": Route(
        "timebank.change_member", ("POST",), obj="tb_member", data=lambda w: {"to_bank": w.tb_bank.pk}
    ),
    "timebank/members/<int:member_id>/proxies/": Route(
        "timebank.change_member",
        ("POST",),
        obj="tb_member",
        data=lambda w: {"name": "代理", "relation": "子女", "consent_note": "授权书", "can_view": "on"},
    ),
    "timebank/members/<int:member_id>/statement/": Route("timebank.export_bank", obj="tb_member"),
    "timebank/members/<int:member_id>/statement.xlsx": Route("timebank.export_bank", ("POST",), obj="tb_member"),
    "timebank/members/<int:member_id>/statement.pdf": Route("timebank.export_bank", obj="tb_member"),
    "timebank/proxies/<int:proxy_id>/end/": Route("timebank.change_member", ("POST",), obj="tb_proxy"),
    "timebank/desk/": Route("timebank.record_transfer", other=OWN),
    "timebank/desk/<int:member_id>/": Route(
        "timebank.record_transfer",
        ("GET", "POST"),
        obj="tb_member",
        data=lambda w: {"action": "withdraw", "minutes": "10", "confirmation": "code", "code": "123456"},
    ),
    "timebank/desk/<int:member_id>/code/": Route("timebank.record_transfer", ("POST",), obj="tb_member"),
    "timebank/import/": Route("timebank.record_transfer", ("GET", "POST"), other=OWN, files=True),
    "timebank/import/template.xlsx": Route("timebank.record_transfer", other=OWN),
    "timebank/import/<int:job_id>/confirm/": Route("timebank.record_transfer", ("POST",), obj="job"),
    "timebank/figures/": Route("timebank.view_bank", other=OWN),
    "timebank/me/": Route("timebank.use_account", other=OWN, no_region=OWN),
    "timebank/me/join/": Route(
        "timebank.use_account", ("POST",), other=FORM, no_region=FORM, form_status=422, data=lambda w: {"name": "新会员"}
    ),
    "timebank/me/give/": Route(
        "timebank.use_account", ("POST",), other=FORM, no_region=FORM, form_status=422, data=lambda w: _give_form(w)
    ),
    "timebank/me/donate/": Route(
        "timebank.use_account", ("POST",), other=FORM, no_region=FORM, form_status=422, data=lambda w: {"minutes": "10"}
    ),
}

# The API's own URL patterns that are not operations of the schema.
API_PUBLIC_PATTERNS = {"api/openapi.json", "api/docs", "api/", "^api/(?P<rest>.*)$"}

# API operations: the key is "METHOD /api/path" as /api/openapi.json spells it.
TB_BANK_MARK = "安泰社区时间银行"  # the bank's name (any name holding 安泰社区: the audit's mark)


def _tb_gift(w) -> dict:
    return {"kind": "gift", "from_account": w.tb_account.pk, "to_account": w.tb_account2.pk, "minutes": 5}


OPERATIONS: dict[str, Route] = {
    "POST /api/auth/token": Route(None, public=True, data=lambda w: {"username": "x", "password": "y"}),
    "POST /api/auth/logout": Route(None, other=OWN, no_region=OWN),
    "GET /api/auth/tokens": Route(None, other=OWN, no_region=OWN),
    "DELETE /api/auth/tokens/{token_id}": Route(None, obj="token", no_region=NOT_FOUND),
    "POST /api/auth/users/{user_id}/end-sessions": Route("accounts.change_user", obj="user"),
    "GET /api/auth/me": Route(None, other=OWN, no_region=OWN),
    "GET /api/elders/categories": Route(None, other=OWN, no_region=OWN),
    "GET /api/elders": Route("elders.view_elder", other=LIST),
    "POST /api/elders": Route("elders.add_elder", other=FORM, form_status=422, data=_elder_form),
    "POST /api/elders/search": Route("elders.view_elder", other=LIST, data=lambda w: {"q": "欧阳"}),
    "GET /api/elders/{elder_id}": Route("elders.view_elder", obj="elder"),
    "PATCH /api/elders/{elder_id}": Route(
        "elders.change_elder", obj="elder", data=lambda w: {"address": "别处", "version": w.elder.version}
    ),
    "POST /api/elders/{elder_id}/status": Route("elders.status_elder", obj="elder", data=_status),
    "POST /api/elders/{elder_id}/reveal": Route("elders.reveal_elder", obj="elder"),
    "GET /api/elders/{elder_id}/history": Route("elders.view_elder", obj="elder"),
    "POST /api/elders/import": Route("elders.import_elder", other=OWN, files=True),
    "POST /api/elders/export": Route("elders.export_elder", other=OWN, data=lambda w: {"status": "all"}),
    "GET /api/jobs/{job_id}": Route("jobs.view_job", obj="job"),
    "GET /api/merchants": Route("merchants.view_merchant", other=LIST, mark=MERCHANT_MARK),
    "POST /api/merchants": Route("merchants.change_merchant", other=FORM, form_status=422, data=_merchant_form),
    "GET /api/merchants/coverage": Route("merchants.view_merchant", other=LIST, mark="安泰社区"),
    "GET /api/merchants/circle/{elder_id}": Route("merchants.view_merchant", obj="elder"),
    "GET /api/merchants/{merchant_id}": Route("merchants.view_merchant", obj="merchant"),
    "PATCH /api/merchants/{merchant_id}": Route("merchants.change_merchant", obj="merchant", data=_merchant_patch),
    "POST /api/merchants/import": Route("merchants.import_merchant", other=OWN, files=True),
    "GET /api/jobs/{job_id}/download": Route("jobs.view_job", obj="job"),
    "POST /api/jobs/{job_id}/rerun": Route("jobs.view_job", obj="job"),
    "POST /api/elders/receive/check": Route("elders.add_elder", other=OWN, data=lambda w: {"id_number": ID_NUMBER}),
    # 安泰社区's elder has not moved out: another region's receive is refused on the field.
    "POST /api/elders/receive": Route(
        "elders.add_elder",
        other=FORM,
        form_status=422,
        data=lambda w: {"id_number": ID_NUMBER, "region": w.tree.grid.pk, "effective_on": timezone.localdate().isoformat()},
    ),
    "GET /api/providers/organisations": Route("providers.view_organisation", other=LIST, mark=ORG_MARK),
    "POST /api/providers/organisations": Route("providers.add_organisation", other=FORM, form_status=422, data=_org_form),
    "GET /api/providers/organisations/{organisation_id}": Route("providers.view_organisation", obj="organisation"),
    "PATCH /api/providers/organisations/{organisation_id}": Route(
        "providers.change_organisation", obj="organisation", data=lambda w: {"contact_name": "李四"}
    ),
    "GET /api/providers/staff": Route("providers.view_caregiver", other=LIST, mark=STAFF_MARK),
    "POST /api/providers/staff": Route("providers.add_caregiver", other=FORM, form_status=422, data=_caregiver_form),
    "GET /api/providers/staff/{caregiver_id}": Route("providers.view_caregiver", obj="caregiver"),
    "PATCH /api/providers/staff/{caregiver_id}": Route(
        "providers.change_caregiver", obj="caregiver", data=lambda w: {"languages": "粤语"}
    ),
    "POST /api/providers/staff/{caregiver_id}/status": Route(
        "providers.change_caregiver", obj="caregiver", data=lambda w: {"action": "leave"}
    ),
    "POST /api/providers/staff/{caregiver_id}/reveal": Route(
        "providers.reveal_caregiver", obj="caregiver", data=lambda w: {"reason": "安排服务"}
    ),
    "GET /api/providers/staff/{caregiver_id}/certificates": Route("providers.view_caregiver", obj="caregiver"),
    "POST /api/providers/staff/{caregiver_id}/certificates": Route(
        "providers.change_caregiver", obj="caregiver", data=lambda w: {"kind": w.cert.kind_id, "number": "N1"}
    ),
    "PATCH /api/providers/certificates/{certificate_id}": Route(
        "providers.change_caregiver", obj="certificate", data=lambda w: {"number": "N2"}
    ),
    "DELETE /api/providers/certificates/{certificate_id}": Route("providers.change_caregiver", obj="certificate"),
    "GET /api/providers/certificates/expiring": Route("providers.view_caregiver", other=LIST, mark=STAFF_MARK),
    "POST /api/providers/staff/import": Route("providers.import_caregiver", other=OWN, files=True),
    "POST /api/providers/staff/export": Route("providers.export_caregiver", other=OWN),
    "GET /api/providers/teams": Route("providers.view_team", other=LIST, mark=TEAM_MARK),
    "POST /api/providers/teams": Route(
        "providers.change_team",
        other=FORM,
        form_status=422,
        data=lambda w: {"region": w.tree.community.pk, "kind": "party", "name": "新队"},
    ),
    "PATCH /api/providers/teams/{team_id}": Route("providers.change_team", obj="team", data=lambda w: {"leader": "王五"}),
    "GET /api/providers/volunteers": Route("providers.view_volunteer", other=LIST, mark=VOLUNTEER_MARK),
    "POST /api/providers/volunteers": Route("providers.add_volunteer", other=FORM, form_status=422, data=_volunteer_form),
    "GET /api/providers/volunteers/{volunteer_id}": Route("providers.view_volunteer", obj="volunteer"),
    "PATCH /api/providers/volunteers/{volunteer_id}": Route(
        "providers.change_volunteer", obj="volunteer", data=lambda w: {"name": "改了名"}
    ),
    "POST /api/providers/volunteers/{volunteer_id}/reveal": Route(
        "providers.reveal_volunteer", obj="volunteer", data=lambda w: {"reason": "联系志愿服务"}
    ),
    "POST /api/providers/volunteers/{volunteer_id}/decide": Route(
        "providers.approve_volunteer", obj="volunteer", data=lambda w: {"action": "approve"}
    ),
    "POST /api/providers/volunteers/import": Route("providers.import_volunteer", other=OWN, files=True),
    "POST /api/providers/volunteers/export": Route("providers.export_volunteer", other=OWN),
    "GET /api/catalogue/categories": Route("catalogue.view_serviceitem", other=OWN),
    "POST /api/catalogue/categories": Route(
        "catalogue.change_serviceitem", other=OWN, data=lambda w: {"code": "c_new", "name": "新类别"}
    ),
    "GET /api/catalogue/items": Route("catalogue.view_serviceitem", other=OWN),
    "POST /api/catalogue/items": Route(
        "catalogue.change_serviceitem",
        other=OWN,
        data=lambda w: {"category": w.category.pk, "code": "new_item", "name": "新项目"},
    ),
    "GET /api/catalogue/items/{item_id}": Route("catalogue.view_serviceitem", obj="item", other=OWN),
    "PATCH /api/catalogue/items/{item_id}": Route(
        "catalogue.change_serviceitem", obj="item", other=OWN, data=lambda w: {"price_fen": 4200}
    ),
    "GET /api/catalogue/skills": Route("catalogue.view_serviceitem", other=OWN),
    "GET /api/catalogue/certificate-kinds": Route("catalogue.view_serviceitem", other=OWN),
    "GET /api/catalogue/prices/{region_id}": Route("catalogue.view_pricelist", obj="region"),
    "POST /api/catalogue/prices/{region_id}": Route(
        "catalogue.change_pricelist",
        obj="region",
        data=lambda w: {"item": w.item.pk, "price_fen": 1250, "valid_from": timezone.localdate().isoformat()},
    ),
    "DELETE /api/catalogue/prices/entries/{entry_id}": Route("catalogue.change_pricelist", obj="price_entry"),
    "GET /api/catalogue/packages": Route("catalogue.view_entitlementpackage", other=LIST, mark=PACKAGE_MARK),
    "POST /api/catalogue/packages": Route("catalogue.change_entitlementpackage", other=FORM, form_status=404, data=_package_body),
    "GET /api/catalogue/entitlements/{elder_id}": Route("catalogue.view_entitlementpackage", obj="elder"),
    "GET /api/orders": Route("orders.view_order", other=LIST),
    "POST /api/orders": Route("orders.add_order", other=FORM, form_status=404, data=lambda w: _order_body(w)),
    "GET /api/orders/{order_id}": Route("orders.view_order", obj="order"),
    "GET /api/orders/{order_id}/history": Route("orders.view_order", obj="order"),
    "POST /api/orders/{order_id}/dispatch": Route(
        "orders.dispatch_order", obj="order", data=lambda w: {"organisation": w.org.pk}
    ),
    "POST /api/orders/{order_id}/accept": Route("orders.serve_order", obj="order"),
    "POST /api/orders/{order_id}/reject": Route("orders.serve_order", obj="order", data=lambda w: {"reason": "时间冲突"}),
    "POST /api/orders/{order_id}/cancel": Route("orders.cancel_order", obj="order", data=lambda w: {"reason": "老人住院"}),
    "GET /api/orders/plans": Route("orders.view_orderplan", other=LIST),
    "POST /api/orders/plans": Route("orders.change_orderplan", other=FORM, form_status=404, data=_plan_body),
    "GET /api/orders/plans/{plan_id}": Route("orders.view_orderplan", obj="plan"),
    "PATCH /api/orders/plans/{plan_id}": Route("orders.change_orderplan", obj="plan", data=lambda w: {"notes": "改在中午"}),
    "POST /api/orders/plans/{plan_id}/end": Route("orders.change_orderplan", obj="plan", data=lambda w: {"reason": "老人住院"}),
    "GET /api/orders/plans/{plan_id}/preview": Route("orders.view_orderplan", obj="plan"),
    "GET /api/orders/agreements": Route("orders.view_agreement", other=LIST),
    "POST /api/orders/agreements": Route("orders.change_agreement", other=FORM, form_status=404, data=_agreement_body),
    "GET /api/orders/agreements/{agreement_id}": Route("orders.view_agreement", obj="agreement"),
    "POST /api/orders/agreements/{agreement_id}/sign": Route(
        "orders.change_agreement", obj="agreement", data=lambda w: {"signatory": "欧阳春梅"}
    ),
    "POST /api/orders/agreements/{agreement_id}/end": Route(
        "orders.change_agreement", obj="agreement", data=lambda w: {"reason": "老人去外地"}
    ),
    "GET /api/orders/agreements/{agreement_id}/pdf": Route("orders.view_agreement", obj="agreement"),
    "GET /api/routing": Route("routing.view_dayplan", other=LIST, mark=ORG_MARK),
    "POST /api/routing": Route(
        "routing.plan_dayplan",
        other=FORM,
        form_status=404,
        data=lambda w: {"day": _tomorrow().isoformat(), "kind": "care", "organisation": w.org.pk},
    ),
    "GET /api/routing/{plan_id}": Route("routing.view_dayplan", obj="day_plan"),
    "POST /api/routing/{plan_id}/replan": Route("routing.plan_dayplan", obj="day_plan"),
    "POST /api/routing/{plan_id}/apply": Route("routing.plan_dayplan", obj="day_plan"),
    "POST /api/routing/stops/{stop_id}/move": Route(
        "routing.plan_dayplan", obj="planned_stop", data=lambda w: {"person": w.caregiver.pk}
    ),
    "GET /api/orders/{order_id}/candidates": Route("orders.dispatch_order", obj="order"),
    "GET /api/orders/{order_id}/organisations": Route("orders.dispatch_order", obj="order"),
    "GET /api/orders/preferences/{elder_id}": Route("orders.dispatch_order", obj="elder"),
    "PUT /api/orders/preferences/{elder_id}": Route("orders.dispatch_order", obj="elder", data=lambda w: {"caregiver_sex": "F"}),
    "GET /api/orders/absences": Route("providers.view_caregiver", other=LIST, mark=STAFF_MARK),
    # another region names 安泰社区's caregiver: 404, as for any object outside the scope
    "POST /api/orders/absences": Route("providers.change_caregiver", other=FORM, form_status=404, data=_absence_form),
    "DELETE /api/orders/absences/{absence_id}": Route("providers.change_caregiver", obj="absence"),
    # Emergency alerts (issue 12): the device gateway's door is public (its per-device token is
    # tested in alerts/tests/test_api.py); the rest as the pages.
    "POST /api/alerts": Route(
        None, public=True, data=lambda w: {"device": "RT-DEVICE-1", "event_id": "rt-1", "occurred_at": timezone.now()}
    ),
    "POST /api/alerts/heartbeat": Route(None, public=True, data=lambda w: {"device": "RT-DEVICE-1", "battery": 50}),
    "GET /api/alerts": Route("alerts.view_alert", other=LIST),
    "POST /api/alerts/manual": Route("alerts.add_alert", other=FORM, form_status=404, data=lambda w: {"elder": w.elder.pk}),
    "GET /api/alerts/{alert_id}": Route("alerts.view_alert", obj="alert"),
    "POST /api/alerts/{alert_id}/acknowledge": Route("alerts.respond_alert", obj="alert", data=lambda w: {}),
    "POST /api/alerts/{alert_id}/resolve": Route("alerts.respond_alert", obj="alert", data=lambda w: {"outcome": "false_alarm"}),
    "POST /api/alerts/{alert_id}/notes": Route("alerts.respond_alert", obj="alert", data=lambda w: {"text": "已电话联系"}),
    "GET /api/alerts/devices": Route("alerts.view_device", other=LIST),
    "POST /api/alerts/devices": Route(
        "alerts.change_device",
        other=FORM,
        form_status=404,
        data=lambda w: {"elder": w.elder.pk, "number": "RT-NEW-2", "installed_on": "2026-01-05"},
    ),
    "GET /api/alerts/devices/{device_id}": Route("alerts.view_device", obj="device"),
    "POST /api/alerts/devices/{device_id}/token": Route("alerts.change_device", obj="device"),
    "POST /api/alerts/devices/{device_id}/retire": Route("alerts.change_device", obj="device", data=lambda w: {"reason": "更换"}),
    "GET /api/alerts/policies/{region_id}": Route("alerts.view_alert", obj="parent"),
    "PUT /api/alerts/policies/{region_id}": Route(
        "alerts.change_escalationpolicy", obj="parent", data=lambda w: {"steps": [{"target": "watcher", "wait_minutes": 3}]}
    ),
    "GET /api/alerts/report": Route("alerts.view_alert", other=LIST, mark=ALERT_REGION_MARK),
    "GET /api/needs": Route("needs.view_need", other=LIST, mark=NEED_MARK),
    "POST /api/needs": Route(
        "needs.add_need", other=FORM, form_status=404, data=lambda w: {"elder": w.elder.pk, "description": "需要送餐"}
    ),
    "GET /api/needs/{need_id}": Route("needs.view_need", obj="need"),
    "POST /api/needs/{need_id}/move": Route("needs.change_need", obj="need", data=lambda w: {"action": "plan"}),
    "GET /api/needs/{need_id}/history": Route("needs.view_need", obj="need"),
    "GET /api/pairing": Route("pairing.view_pairing", other=LIST, mark=PAIRING_MARK),
    "POST /api/pairing": Route(
        "pairing.change_pairing",
        other=FORM,
        form_status=404,
        data=lambda w: {"elder": w.elder.pk, "partner_name": "新邻居", "phone": "13900005555"},
    ),
    "GET /api/pairing/unwatched": Route("pairing.view_pairing", other=LIST, mark=UNWATCHED_MARK),
    "GET /api/pairing/mine": Route("pairing.watch_pairing", other=OWN, no_region=OWN),
    "POST /api/pairing/mine/{pairing_id}/phone": Route("pairing.watch_pairing", obj="pairing", no_region=NOT_FOUND),
    "GET /api/pairing/{pairing_id}": Route("pairing.view_pairing", obj="pairing"),
    "POST /api/pairing/{pairing_id}/end": Route("pairing.change_pairing", obj="pairing", data=lambda w: {"reason": "搬走了"}),
    "GET /api/visits/dues": Route("visits.view_visit", other=LIST),
    "GET /api/visits": Route("visits.view_visit", other=LIST),
    "POST /api/visits/export": Route("visits.export_visit", other=OWN),
    "POST /api/visits": Route(
        "visits.add_visit", other=FORM, form_status=404, data=lambda w: {"elder": w.elder.pk, "via": "phone"}
    ),
    "GET /api/visits/{visit_id}": Route("visits.view_visit", obj="care_visit"),
    "GET /api/visits/rate": Route("visits.view_visit", other=LIST, mark="安泰社区"),
    "GET /api/visits/rate/missed": Route("visits.view_visit", other=LIST),
    "GET /api/visits/rules": Route("visits.view_visit", other=OWN),
    "PUT /api/visits/rules": Route("visits.change_visitrule", other=OWN, data=lambda w: {"rules": []}),
    "GET /api/visits/campaigns": Route("visits.view_visit", other=LIST, mark=CAMPAIGN_MARK),
    "POST /api/visits/campaigns": Route(
        "visits.change_visitrule",
        other=FORM,
        form_status=404,
        data=lambda w: {"region": w.tree.community.pk, "name": "寒潮探访", "criteria": [{"categories": ["lives_alone"]}]},
    ),
    "GET /api/visits/campaigns/{campaign_id}": Route("visits.view_visit", obj="campaign"),
    "POST /api/visits/events": Route(
        "visits.change_visitrule",
        other=FORM,
        form_status=404,
        data=lambda w: {"elder": w.elder.pk, "kind": "fall", "happened_at": timezone.now().isoformat()},
    ),
    "GET /api/assessments/instruments": Route("assessments.view_assessment", other=OWN),
    "GET /api/assessments": Route("assessments.view_assessment", other=LIST),
    "GET /api/assessments/due": Route("assessments.view_assessment", other=LIST),
    # another region names 安泰社区's elder: 404, as for any object outside the scope
    "POST /api/assessments": Route("assessments.add_assessment", data=lambda w: {"elder": w.elder.pk}),
    "GET /api/assessments/{assessment_id}": Route("assessments.view_assessment", obj="assessment"),
    "PATCH /api/assessments/{assessment_id}": Route(
        "assessments.change_assessment", obj="assessment", data=lambda w: {"answers": {"B.1.1": 1}}
    ),
    "POST /api/assessments/{assessment_id}/complete": Route("assessments.change_assessment", obj="assessment"),
    "GET /api/assessments/{assessment_id}/report.pdf": Route("assessments.view_assessment", obj="assessment"),
    "POST /api/assessments/instruments/{code}/versions": Route(
        "assessments.publish_instrument", obj="instrument", other=OWN, data=_cutoff_body
    ),
    # Evaluation and supervision (docs/orders-quality.md). One rate route for a relative (through
    # their family link) and a worker with orders.rate_order (a call-back): the role with neither
    # is refused 403, another region's worker gets 404, an account without a region 403.
    "POST /api/orders/{order_id}/rate": Route("orders.rate_order", obj="delivered_order", data=lambda w: {"rating": 5}),
    "GET /api/orders/call-backs": Route("orders.view_followup", other=LIST),
    "GET /api/orders/call-backs/{call_back_id}": Route("orders.view_followup", obj="call_back"),
    "POST /api/orders/call-backs/{call_back_id}/record": Route(
        "orders.change_followup", obj="call_back", data=lambda w: {"reached": False, "note": "无人接听"}
    ),
    "GET /api/orders/follow-ups": Route("orders.view_followup", other=LIST),
    # another region names 安泰社区's order: 404, as for any object outside the scope
    "POST /api/orders/follow-ups": Route(
        "orders.change_followup", data=lambda w: {"order": w.delivered_order.pk, "note": "家属投诉"}
    ),
    "GET /api/orders/follow-ups/{follow_up_id}": Route("orders.view_followup", obj="follow_up"),
    "POST /api/orders/follow-ups/{follow_up_id}/close": Route(
        "orders.change_followup", obj="follow_up", data=lambda w: {"outcome": "已处理"}
    ),
    "GET /api/orders/supervision": Route("orders.view_followup", other=LIST, mark=QUALITY_WORKER_MARK),
    "GET /api/orders/supervision/orders": Route("orders.view_followup", other=LIST),
    "GET /api/orders/scorecards/{organisation_id}": Route("orders.view_followup", obj="organisation"),
    "POST /api/orders/scorecards/{organisation_id}/apply": Route(
        "providers.change_organisation", obj="organisation", data=lambda w: {"month": _this_month()}
    ),
    "GET /api/orders/family-links": Route("orders.view_familylink", other=LIST),
    "POST /api/orders/family-links": Route(
        "orders.change_familylink", data=lambda w: {**_family_link_body(w), "elder": w.elder.pk}
    ),
    "POST /api/orders/family-links/{link_id}/end": Route("orders.change_familylink", obj="family_link"),
    # The family portal's API: its own guard, as its pages (see ROUTES).
    "GET /api/orders/family/elders": Route("orders.portal_order", other=OWN, no_region=OWN),
    "GET /api/orders/family/items": Route("orders.portal_order", other=OWN, no_region=OWN),
    "GET /api/orders/family/orders": Route("orders.portal_order", other=OWN, no_region=OWN),
    "GET /api/orders/family/orders/{order_id}": Route("orders.portal_order", obj="delivered_order", no_region=NOT_FOUND),
    "POST /api/orders/family/orders": Route(
        "orders.portal_order",
        no_region=NOT_FOUND,
        data=lambda w: {"elder": w.elder.pk, "item": w.item.pk, "scheduled_start": _tomorrow_at_9()},
    ),
    "POST /api/orders/{order_id}/check-in": Route("orders.serve_order", obj="order", data=lambda w: _position_body(w)),
    "POST /api/orders/{order_id}/check-out": Route(
        "orders.serve_order", obj="order", data=lambda w: {**_position_body(w), "outcomes": {"清洁已完成": True}}
    ),
    "GET /api/orders/my-day": Route("orders.serve_order", other=OWN),
    "GET /api/orders/exceptions": Route("orders.view_visitexception", other=LIST),
    "POST /api/orders/exceptions/{exception_id}/resolve": Route(
        "orders.resolve_visitexception", obj="visit_exception", data=lambda w: {"resolution": "accepted", "note": "已核实"}
    ),
    # another region's elder named on a stray check-in: refused on the field (and they are no caregiver)
    "POST /api/orders/stray-checkins": Route(
        "orders.serve_order", other=FORM, form_status=422, data=lambda w: {"elder": w.elder.pk, "note": "临时上门"}
    ),
    "POST /api/orders/{order_id}/dispute": Route(
        "orders.resolve_visitexception", obj="delivered_order", data=lambda w: {"reason": "家属来电说那天没人上门"}
    ),
    "GET /api/orders/stray-checkins": Route("orders.view_visitexception", other=LIST, mark=STAFF_MARK),
    "POST /api/orders/stray-checkins/{stray_id}/resolve": Route(
        "orders.resolve_visitexception", obj="stray", data=lambda w: {"action": "dismiss", "note": "误操作"}
    ),
    "GET /api/settlements/statements": Route("settlements.view_statement", other=LIST, mark=SETTLE_MARK),
    "GET /api/settlements/statements/{statement_id}": Route("settlements.view_statement", obj="statement"),
    "POST /api/settlements/statements/build": Route("settlements.issue_statement", data=_settle_form),
    "POST /api/settlements/statements/issue": Route("settlements.issue_statement", data=_settle_form),
    "POST /api/settlements/statements/{statement_id}/issue": Route("settlements.issue_statement", obj="statement"),
    "POST /api/settlements/statements/{statement_id}/export": Route("settlements.export_statement", obj="statement"),
    "GET /api/settlements/orders/{order_id}/shares": Route("settlements.view_statement", obj="settle_order"),
    "POST /api/settlements/shares/{share_id}/correct": Route(
        "settlements.issue_statement", obj="share", data=lambda w: {"amount_fen": 1000, "note": "核实服务时长"}
    ),
    # The time bank (docs/timebank.md).
    "GET /api/timebank/banks": Route("timebank.view_bank", other=LIST, mark=TB_BANK_MARK),
    "PATCH /api/timebank/banks/{bank_id}": Route(
        "timebank.change_bank", obj="tb_bank", data=lambda w: {"credit_line_minutes": 60}
    ),
    "POST /api/timebank/banks/{bank_id}/members": Route(
        "timebank.change_member", obj="tb_bank", data=lambda w: {"name": "新会员", "region": w.tree.grid.pk}
    ),
    "GET /api/timebank/members": Route("timebank.view_bank", other=LIST),
    "GET /api/timebank/members/{member_id}": Route("timebank.view_bank", obj="tb_member"),
    "POST /api/timebank/members/{member_id}/decide": Route(
        "timebank.change_member", obj="tb_member", data=lambda w: {"approve": False, "reason": "测试"}
    ),
    "POST /api/timebank/members/{member_id}/proxies": Route(
        "timebank.change_member", obj="tb_member", data=lambda w: {"name": "代理", "relation": "子女", "consent_note": "授权书"}
    ),
    "POST /api/timebank/members/{member_id}/move": Route(
        "timebank.change_member", obj="tb_member", data=lambda w: {"to_bank": w.tb_bank.pk}
    ),
    "GET /api/timebank/members/{member_id}/statement": Route("timebank.view_bank", obj="tb_member"),
    "GET /api/timebank/members/{member_id}/statement.pdf": Route("timebank.export_bank", obj="tb_member"),
    "POST /api/timebank/desk/{member_id}/code": Route("timebank.record_transfer", obj="tb_member"),
    "POST /api/timebank/desk/{member_id}/withdraw": Route(
        "timebank.record_transfer", obj="tb_member", data=lambda w: {"minutes": 10, "code": "123456"}
    ),
    "POST /api/timebank/desk/{member_id}/deposit": Route(
        "timebank.record_transfer", obj="tb_member", data=lambda w: {"minutes": 10, "code": "123456", "category": "mutual_care"}
    ),
    "POST /api/timebank/import": Route("timebank.record_transfer", other=OWN, files=True),
    "GET /api/timebank/figures": Route("timebank.view_bank", other=OWN),
    "GET /api/timebank/me": Route("timebank.use_account", other=OWN, no_region=OWN),
    "POST /api/timebank/me/give": Route(
        "timebank.use_account", other=FORM, no_region=FORM, form_status=422, data=lambda w: _give_body(w)
    ),
    "POST /api/timebank/me/donate": Route(
        "timebank.use_account", other=FORM, no_region=FORM, form_status=422, data=lambda w: {"minutes": 10}
    ),
    # The time bank's ledger (docs/timebank-ledger.md): 欧阳春梅's account in 安泰社区's bank and a gift of hers.
    "POST /api/timebank/transfers": Route("timebank.record_transfer", data=_tb_gift),
    "POST /api/timebank/transfers/{transfer_id}/reverse": Route(
        "timebank.reverse_transfer", obj="tb_transfer", data=lambda w: {"note": "登记错误"}
    ),
    "GET /api/timebank/accounts/{account_id}/movements": Route("timebank.view_bank", obj="tb_account"),
    "GET /api/timebank/audit": Route("timebank.view_bank", other=LIST, mark="安泰社区"),
}

# --- every route, as the URL configuration and the schema say --------------------------------


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), pattern


def url_patterns() -> set[str]:
    return {route for route, _ in _walk(get_resolver().url_patterns)}


def api_operations() -> set[str]:
    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def _api_path_of(pattern: str) -> str:
    """'api/elders/<int:elder_id>' -> '/api/elders/{elder_id}'."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def page_routes() -> list[str]:
    """Every pattern that is a page (the API's patterns are its operations)."""
    return sorted(p for p in url_patterns() if not p.startswith("api/") and not p.startswith("^api/"))


WHO = ("anonymous", "no_permission", "other_region", "no_region")


def _cases(table: dict[str, Route], keys, kind: str):
    cases = []
    for key in keys:
        route = table.get(key)
        if route is None:  # fails in the test, naming the route
            cases.append(pytest.param(kind, key, "GET", "anonymous", id=f"{key or '/'} NO ENTRY"))
            continue
        methods = (key.split(" ", 1)[0],) if kind == "api" else route.methods
        for method in methods:
            for who in WHO:
                if who == "no_permission" and route.perm is None:
                    continue  # no role lacks it
                reason = xfail_reason(key, method, who, route)
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                label = key if kind == "api" else f"{method} /{key}"
                cases.append(pytest.param(kind, key, method, who, id=f"{label} {who}", marks=marks))
    return cases


def xfail_reason(key: str, method: str, who: str, route: Route) -> str | None:
    """A case expected to fail, with the reason (strict, so it fails the moment it is fixed).
    None today: the no-region refusal and the permission checked before the lookup landed with
    core.access (issue 9, item 1)."""
    return None


# --- the world: one setup for the module -----------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """安泰社区's things and the users who try them, built once and rolled back at the end (each
    test runs in its own savepoint inside this transaction)."""
    from elders.selectors import elder_reveal
    from elders.tests.factories import ElderFactory
    from jobs.models import Job
    from merchants.models import Merchant

    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))  # the job files
    with django_db_blocker.unblock(), media, transaction.atomic():
        w = type("World", (), {})()
        w.tree = tree = build_tree()
        # The owner: every permission, attached to 安泰社区. The other region's user is the same
        # but attached to 驻春路社区: only the region tells them apart.
        w.owner = make_user("owner", Role.ADMIN, tree.community)
        w.owner.full_name = "安泰专员"
        w.owner.save()
        w.other = make_user("other", Role.ADMIN, tree.community2)
        w.no_region = make_user("noregion", Role.ADMIN, None)
        w.target = make_user("target", Role.GRID, tree.grid)
        w.target.full_name = "安泰网格员"
        w.target.save()
        w.elder = ElderFactory(region=tree.grid, name=HOME_MARK, sex="F", birth_date=BORN, id_number=ID_NUMBER, address="1号楼")
        w.twin = ElderFactory(region=tree.grid, name=HOME_MARK, sex="F", birth_date=BORN, id_number="", address="1号楼")
        elder_reveal(user=w.owner, elder=w.elder, reason="电话回访")  # an access log row of 安泰社区
        w.job = _job(w.owner, Job)
        w.merchant = Merchant.objects.create(
            region=tree.community, name=MERCHANT_MARK, kind="barber", lat=30.63, lng=120.57, discount_tenths=80
        )
        w.token_key = api_token_create(user=w.owner)
        w.token = w.owner.api_tokens.get()
        _providers_world(w, tree)
        _catalogue_world(w)
        w.assessment, w.assessed = _assessments(w)
        w.instrument = w.assessment.instrument  # GB/T 42195 in use: its code is in the publish path
        _orders_world(w)
        _desk_world(w)
        _quality_world(w)
        _visit_world(w)
        _dispatch_world(w)
        _routing_world(w)
        _settlements_world(w)
        _pairing_world(w)
        _alerts_world(w)
        _care_visits_world(w)
        _timebank_world(w)
        _timebank_ledger_world(w)
        w.no_permission = {}
        yield w
        transaction.set_rollback(True)


def _care_visits_world(w):
    """安泰社区's care visits (docs/visits.md): a visit of hers, then an unmet rule due of this
    month, a campaign over 安泰社区 and a major event."""
    from visits.duties import campaign_start, major_event_record, period_window
    from visits.models import VisitDue
    from visits.rules import rules_initial_load
    from visits.services import visit_record

    rules_initial_load()  # gone if a transactional test flushed the database before
    now = timezone.now()
    w.care_visit = visit_record(by=w.owner, elder=w.elder, visited_at=now - datetime.timedelta(minutes=1), via="phone")
    opens_at, due_at = period_window("month", timezone.localdate().replace(day=1))
    VisitDue.objects.create(
        elder=w.elder, region=w.elder.region, source="rule", tier="key", period="month", opens_at=opens_at, due_at=due_at
    )
    w.campaign = campaign_start(
        by=w.owner, region=w.tree.community, name=CAMPAIGN_MARK, reason="heat", criteria=[{"min_age": 60}], hours=48
    )
    major_event_record(by=w.owner, elder=w.elder, kind="fall", happened_at=now - datetime.timedelta(hours=1))


def _providers_world(w, tree):
    """安泰社区's organisation with a staff member and a certificate expiring soon, a team and a
    volunteer; an organisation of 驻春路社区 and its provider user (no region: the second axis),
    and a provider user of 安泰社区's organisation."""
    from catalogue.models import CertificateKind
    from providers import services

    w.org = services.organisation_create(by=w.owner, data={"name": ORG_MARK, "kind": "housekeeping", "region": tree.community.pk})
    w.caregiver = services.caregiver_create(
        by=w.owner,
        data={"organisation": w.org.pk, "kind": "nanny", "name": STAFF_MARK, "id_number": ID_NUMBER, "phone": "13812345678"},
    )
    kind = CertificateKind.objects.create(code="route-test", name="养老护理员（路由测试）", family="route-test")
    soon = timezone.localdate() + datetime.timedelta(days=10)
    w.cert = services.certificate_create(
        by=w.owner, caregiver=w.caregiver, data={"kind": kind.pk, "number": "A1234567", "expires_on": soon}
    )
    w.team = services.team_create(by=w.owner, data={"region": tree.community.pk, "kind": "party", "name": TEAM_MARK})
    w.volunteer = services.volunteer_create(
        by=w.owner, data={"region": tree.community.pk, "team": w.team.pk, "name": VOLUNTEER_MARK, "phone": "13912340000"}
    )
    w.other_org = services.organisation_create(
        by=make_user("city_admin", Role.ADMIN, tree.root),
        data={"name": "驻春路家政", "kind": "housekeeping", "region": tree.community2.pk},
    )
    w.other_org_user = make_user("other_org", Role.PROVIDER, None)
    w.other_org_user.organisation = w.other_org
    w.other_org_user.save()
    w.org_user = make_user("own_org", Role.PROVIDER, None)
    w.org_user.organisation = w.org
    w.org_user.save()


def _catalogue_world(w):
    """安泰社区's price list, package and need, and catalogue rows to name (issue 10)."""
    import datetime as dt

    from catalogue.models import CertificateKind, EntitlementPackage, ServiceCategory, ServiceItem, Skill
    from catalogue.services import catalogue_initial_load, package_save, price_entry_set
    from needs.services import need_create

    catalogue_initial_load()  # a transactional test run before may have flushed migration 0003's rows
    w.item = ServiceItem.objects.get(code="cleaning")
    w.category = ServiceCategory.objects.get(code="daily_care")
    w.skill = Skill.objects.get(code="cleaning")
    w.certificate = CertificateKind.objects.get(code="health")
    w.price_entry = price_entry_set(
        by=w.owner, region=w.tree.community, item=w.item, price_fen=3100, valid_from=dt.date(2026, 1, 1)
    )
    w.package = package_save(
        by=w.owner,
        package=EntitlementPackage(),
        data={
            "region": w.tree.community,
            "code": "antai_severe",
            "name": PACKAGE_MARK,
            "ability_levels": ["severe"],
            "payment_mode": "government",
            "valid_from": dt.date(2026, 1, 1),
        },
        grants=[{"item": w.item, "category": None, "quantity": 30, "unit": "hour"}],
    )
    w.need = need_create(by=w.owner, elder=w.elder, kind="special", source="visit", description=NEED_MARK)


def _assessments(w):
    """A draft of 安泰社区's elder, and a completed assessment of hers that is overdue (the due list)."""
    from assessments.definition import load_shipped
    from assessments.models import Instrument
    from assessments.services import assessment_answer, assessment_complete, assessment_create
    from assessments.tests.helpers import best, definition

    load_shipped(Instrument)  # gone if a transactional test flushed the database before

    done = assessment_create(by=w.owner, elder=w.elder, assessed_on=timezone.localdate() - datetime.timedelta(days=400))
    assessment_answer(by=w.owner, assessment=done, answers=best(definition()))
    assessment_complete(by=w.owner, assessment=done)
    return assessment_create(by=w.owner, elder=w.elder), done


def _order_body(w) -> dict:
    start = timezone.localtime() + datetime.timedelta(days=1)
    return {"elder": w.elder.pk, "item": w.item.pk, "scheduled_start": start.replace(hour=9, minute=0).isoformat()}


def _orders_world(w):
    """安泰社区's order of her, created for tomorrow (issue 11)."""
    from orders.services import order_create

    start = timezone.localtime() + datetime.timedelta(days=1)
    w.order = order_create(
        by=w.owner, elder=w.elder, item=w.item, scheduled_start=start.replace(hour=9, minute=0, second=0, microsecond=0)
    )


def _desk_world(w):
    """安泰社区's recurring plan for her (every Friday, no organisation: 康乃馨家政's own users must
    not reach her through it) and a draft service agreement (issue 11, the order desk)."""
    from orders.agreements import LineIn, agreement_create
    from orders.plans import order_plan_create

    starts = timezone.localdate() + datetime.timedelta(days=1)
    w.plan = order_plan_create(
        by=w.owner,
        elder=w.elder,
        item=w.item,
        data={
            "rrule": "FREQ=WEEKLY;BYDAY=FR",
            "starts_on": starts,
            "start_time": datetime.time(10, 0),
            "duration_minutes": 60,
            "auto_dispatch": False,
        },
        generate=False,
    )
    w.agreement = agreement_create(
        by=w.owner, elder=w.elder, lines=[LineIn(w.item, 4, "month", "elder")], valid_from=timezone.localdate()
    )


def _quality_world(w):
    """安泰社区's delivered, government-purchased visit (late, by 安泰助老服务站's caregiver, so
    康乃馨家政's users do not reach it), its call-back and a complaint, and a relative's account
    linked to her with consent (docs/orders-quality.md)."""
    from orders.family import family_link_create
    from orders.models import CallBack
    from orders.quality import call_backs_draw, follow_up_create
    from orders.services import _locked, order_accept, order_create, order_dispatch, order_move
    from providers import services

    station = services.organisation_create(
        by=w.owner, data={"name": "安泰助老服务站", "kind": "station", "region": w.tree.community.pk}
    )
    worker = services.caregiver_create(
        by=w.owner, data={"organisation": station.pk, "kind": "nanny", "name": QUALITY_WORKER_MARK}
    )
    start = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time(0, 30)))
    order = order_create(by=w.owner, elder=w.elder, item=w.item, scheduled_start=start, payment_mode="government")
    order_dispatch(by=w.owner, order=order, organisation=station, caregiver=worker)
    order = order_accept(by=w.owner, order=order)
    order = _locked(order)
    order.checkin_at = order.scheduled_start
    order_move(by=w.owner, order=order, action="check_in", update_fields=["checkin_at", "updated_at"])
    order.checkout_at, order.flags = order.scheduled_end, ["late"]
    order_move(by=w.owner, order=order, action="check_out", update_fields=["checkout_at", "flags", "updated_at"])
    w.delivered_order = order
    call_backs_draw(now=timezone.now() + datetime.timedelta(days=1), percent=100)
    w.call_back = CallBack.objects.get(order=order)
    w.follow_up = follow_up_create(by=w.owner, order=order, note="家属来电投诉")
    w.relative = make_user("anfamily", Role.ELDER, None)
    make_user("anfamily2", Role.ELDER, None)  # an account a form may link
    w.family_link = family_link_create(
        by=w.owner, user=w.relative, elder=w.elder, relation="child", consent_on=timezone.localdate(), consent_note="签字同意书"
    )


def _position_body(w) -> dict:
    return {"lat": 30.63, "lng": 120.57, "accuracy_m": 10, "idempotency_key": "route-test"}


def _visit_world(w):
    """安泰社区's visit exception (on an order of hers sent to no organisation, so a provider's user
    does not reach it) and a stray check-in of 康乃馨家政's caregiver naming no elder (issue 11)."""
    from orders.models import StrayCheckin, VisitException
    from orders.services import order_create

    start = timezone.localtime() + datetime.timedelta(days=2)
    order = order_create(
        by=w.owner, elder=w.elder, item=w.item, scheduled_start=start.replace(hour=9, minute=0, second=0, microsecond=0)
    )
    w.visit_exception = VisitException.objects.create(order=order, code="late", detail="比预约时间晚 20 分钟")
    w.stray = StrayCheckin.objects.create(
        caregiver=w.caregiver, organisation=w.org, region=w.tree.community, at=timezone.now(), note="老人来电求助"
    )


def _dispatch_world(w):
    """Dispatch (issue 11): today's order of her waiting on the board, and a leave of 安泰社区's
    caregiver next week."""
    from orders.services import order_create
    from providers.services import absence_create

    start = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    w.board_order = order_create(by=w.owner, elder=w.elder, item=w.item, scheduled_start=start)
    week = timezone.localdate() + datetime.timedelta(days=7)
    w.absence = absence_create(by=w.owner, caregiver=w.caregiver, data={"starts_on": week, "reason": "training"})


def _tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def _routing_world(w):
    """Day routes (issue 14): 康乃馨家政's care plan of tomorrow (her order waits on it, or is
    listed unplanned) and one planned stop of it on its caregiver."""
    from routing.models import PlannedStop
    from routing.services import day_plan_create

    w.day_plan = day_plan_create(by=w.owner, owner=w.org, day=_tomorrow(), kind="care", seconds=0.5)
    start = w.order.scheduled_start
    w.planned_stop = PlannedStop.objects.filter(plan=w.day_plan).first() or PlannedStop.objects.create(
        plan=w.day_plan,
        caregiver=w.caregiver,
        order=w.order,
        seq=1,
        arrive_at=start,
        start_at=start,
        end_at=w.order.scheduled_end,
        lat=30.63,
        lng=120.57,
    )


def _settlements_world(w):
    """安泰社区's visit of last month by another organisation of 安泰社区 (not 康乃馨家政: its users
    must not reach her), checked out (its share written by the hook), and the month's draft
    statements built for 安泰社区 (issue 11)."""
    from orders.services import order_accept, order_create, order_dispatch, order_move
    from providers import services
    from settlements.models import Share, Statement
    from settlements.selectors import previous_month
    from settlements.services import statements_build

    org = services.organisation_create(
        by=w.owner, data={"name": "安泰居家服务中心", "kind": "station", "region": w.tree.community.pk}
    )
    worker = services.caregiver_create(by=w.owner, data={"organisation": org.pk, "kind": "nanny", "name": "欧阳结算"})
    day = previous_month() + datetime.timedelta(days=9)
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))
    order = order_create(by=w.owner, elder=w.elder, item=w.item, scheduled_start=start)
    order = order_dispatch(by=w.owner, order=order, organisation=org, caregiver=worker)
    order = order_accept(by=w.owner, order=order)
    order.checkin_at, order.checkout_at, order.verification = start, order.scheduled_end, "verified"
    order_move(by=w.owner, order=order, action="check_in", update_fields=["checkin_at"])
    order_move(by=w.owner, order=order, action="check_out", update_fields=["checkout_at", "verification"])
    statements_build(by=w.owner, month=previous_month(), region=w.tree.community)
    w.settle_order = order
    w.share = Share.objects.get(order=order)
    w.statement = Statement.objects.get(kind="payer", party_label=SETTLE_MARK)


def _pairing_world(w):
    """安泰社区's watcher of her (a neighbour with an account of her own, so the phone page has a
    pairing to refuse to others), and an elder living alone with no watcher (issue 12)."""
    from elders.tests.factories import ElderFactory
    from pairing.services import pairing_create

    watcher = make_user("anwatcher", Role.ELDER, None)
    w.pairing = pairing_create(
        by=w.owner, elder=w.elder, role="watcher", partner_name=PAIRING_MARK, phone="13900006666", user=watcher
    )
    ElderFactory(region=w.tree.grid, name=UNWATCHED_MARK, living_arrangement="alone", marital_status="widowed", children_count=0)


def _alerts_world(w):
    """安泰社区's call device (with a token) and an open alert of hers from the hotline (issue 12)."""
    from alerts.services import alert_raise, device_register, device_token_issue

    w.device = device_register(
        by=w.owner, elder=w.elder, kind="call_button", number="RT-DEVICE-1", installed_on=timezone.localdate()
    )
    device_token_issue(by=w.owner, device=w.device)
    w.alert, _created = alert_raise(elder=w.elder, source="hotline", kind="fall", occurred_at=timezone.now(), by=w.owner)


def _timebank_world(w):
    """安泰社区's time bank (issue 13), her membership (active, her account open) and a proxy."""
    from timebank.members import member_apply, member_decide, proxy_register
    from timebank.services import bank_open

    w.tb_bank = bank_open(by=w.owner, region=w.tree.community, name=TB_BANK_MARK)
    member = member_apply(by=w.owner, bank=w.tb_bank, elder=w.elder)
    w.tb_member = member_decide(by=w.owner, member=member, approve=True)
    w.tb_proxy = proxy_register(by=w.owner, member=w.tb_member, name="欧阳小明", relation="儿子", consent_note="本人签字授权书")


def _timebank_ledger_world(w):
    """安泰社区's time bank (the members' world may have opened it: reused); 欧阳春梅 a member with
    120 minutes earned, her son a member, and her gift of 30 minutes to him (issue 13)."""
    from timebank import ledger
    from timebank.models import Bank, Member
    from timebank.services import bank_open, member_account_open

    bank = Bank.objects.filter(region=w.tree.community).first() or bank_open(
        by=w.owner, region=w.tree.community, name=TB_BANK_MARK
    )
    her = Member.objects.filter(bank=bank, elder=w.elder, status="active").first() or Member.objects.create(
        bank=bank, region=w.tree.grid, name=HOME_MARK, elder=w.elder, status="active"
    )
    son = Member.objects.create(bank=bank, region=w.tree.grid, name="欧阳明", status="active")
    w.tb_account, w.tb_account2 = member_account_open(member=her), member_account_open(member=son)
    ledger.deposit_service(member_account=w.tb_account, minutes_served=120, category="mutual_care", by=w.owner)
    w.tb_transfer = ledger.gift(from_account=w.tb_account, to_account=w.tb_account2, minutes=30, by=w.owner)


def _job(user, Job):
    """A finished dry-run import of `user`, with its input and an output file."""
    job = Job(kind="elder_import", by=user, region=user.region, params={"dry_run": True}, input_name="安泰名单.xlsx")
    job.status = Job.Status.SUCCEEDED
    job.input_file.save("in.xlsx", ContentFile(b"xlsx"), save=False)
    job.output_file.save("out.xlsx", ContentFile(b"xlsx"), save=False)
    job.output_name = "安泰名单-错误.xlsx"
    job.save()
    return job


def lacking(perm: str) -> str:
    """The role with the most permissions that lacks `perm`."""
    roles = [r for r in Role if perm not in ROLE_PERMISSIONS.get(r.value, frozenset())]
    return max(roles, key=lambda r: (len(ROLE_PERMISSIONS.get(r.value, frozenset())), r.value)).value


def actor(w, who: str, route: Route):
    if who == "anonymous":
        return None
    if who == "no_permission":
        role = lacking(route.perm)
        return make_user(f"np_{role}", role, w.tree.city)
    return {"other_region": w.other, "no_region": w.no_region, "owner": w.owner}[who]


def target(w, route: Route, who: str, user):
    """The object the path's id names: 安泰社区's, or for a user without the permission their own
    job (jobs are their starter's alone: someone else's would be a 404 whatever the permission)."""
    from jobs.models import Job

    if route.obj is None:
        return None
    if route.obj == "job" and who == "no_permission":
        return _job(user, Job)
    return {
        "job": w.job,
        "elder": w.elder,
        "user": w.target,
        "region": w.tree.grid,
        "parent": w.tree.community,
        "token": w.token,
        "merchant": w.merchant,
        "organisation": w.org,
        "caregiver": w.caregiver,
        "certificate": w.cert,
        "team": w.team,
        "volunteer": w.volunteer,
        "item": w.item,
        "category": w.category,
        "skill": w.skill,
        "certificate_kind": w.certificate,
        "price_entry": w.price_entry,
        "package": w.package,
        "need": w.need,
        "assessment": w.assessment,
        "instrument": w.instrument,
        "order": w.order,
        "plan": w.plan,
        "agreement": w.agreement,
        "delivered_order": w.delivered_order,
        "call_back": w.call_back,
        "follow_up": w.follow_up,
        "family_link": w.family_link,
        "visit_exception": w.visit_exception,
        "stray": w.stray,
        "absence": w.absence,
        "settle_order": w.settle_order,
        "share": w.share,
        "statement": w.statement,
        "pairing": w.pairing,
        "alert": w.alert,
        "device": w.device,
        "care_visit": w.care_visit,
        "campaign": w.campaign,
        "tb_bank": w.tb_bank,
        "tb_member": w.tb_member,
        "tb_proxy": w.tb_proxy,
        "tb_account": w.tb_account,
        "tb_transfer": w.tb_transfer,
        "day_plan": w.day_plan,
        "planned_stop": w.planned_stop,
    }[route.obj]


def fill(path: str, obj) -> str:
    key = obj.code if obj is not None and obj._meta.label == "assessments.Instrument" else getattr(obj, "pk", 0)
    return re.sub(r"<(?:\w+:)?\w+>|\{\w+\}", str(key), path)


def counts() -> dict[str, int]:
    """Rows in every table of the project's apps."""
    local = {"accounts", "regions", "elders", "audit", "jobs", "providers", "catalogue", "needs", "assessments", "merchants"}
    local |= {"orders", "settlements", "timebank", "pairing", "alerts", "visits"}
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in local}


def row(obj) -> dict | None:
    if obj is None:
        return None
    return type(obj).objects.filter(pk=obj.pk).values().first()


def excel_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from elders.tests.sheets import person, xlsx

    return SimpleUploadedFile("名单.xlsx", xlsx([person(1)]), content_type="application/octet-stream")


CSRF = "a" * 32  # a well-formed secret: the cookie and the form carry the same one


def signed_in(kind: str, user) -> tuple[Client, dict]:
    """A browser (pages: the session and the CSRF cookie) or an API client (a bearer token)."""
    client = Client(enforce_csrf_checks=True)
    headers = {}
    if kind == "page":
        if user is not None:
            client.force_login(user)
        client.cookies[settings.CSRF_COOKIE_NAME] = CSRF
    elif user is not None:
        headers["Authorization"] = f"Bearer {api_token_create(user=user)}"
    return client, headers


def ask(client, headers, kind: str, key: str, method: str, route: Route, w, user, obj):
    """Send the request: a page's form with its CSRF token, an API body as JSON or multipart."""
    if kind == "page":
        path = "/" + fill(key, obj)
        if method == "GET":
            return client.get(path)
        data = dict(route.data(w)) if route.data else {}
        if route.files:
            data["file"] = excel_upload()
        data["csrfmiddlewaretoken"] = CSRF
        return client.post(path, data)
    path = fill(key.split(" ", 1)[1], obj)
    if route.files:
        data = {"file": excel_upload()} if user is not None else {}
        return client.post(path, data, headers=headers)
    # Anonymous sends an empty body: the refusal comes before the body is read.
    body = route.data(w) if route.data and user is not None else {}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.generic(method, path, _json(body), content_type="application/json", headers=headers)


def _json(body) -> str:
    return json.dumps(body, default=str)


def assert_error_shape(response):
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"], body


def text(response) -> str:
    if response.get("Content-Type", "").startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    if response.streaming:
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


# --- the tests ---------------------------------------------------------------------------------


def test_every_page_and_operation_has_an_entry():
    missing = [p for p in page_routes() if p not in ROUTES]
    missing += [op for op in sorted(api_operations()) if op not in OPERATIONS]
    api_patterns = {p for p in url_patterns() if p.startswith(("api/", "^api/"))}
    operation_paths = {op.split(" ", 1)[1] for op in api_operations()}
    missing += [p for p in sorted(api_patterns - API_PUBLIC_PATTERNS) if _api_path_of(p) not in operation_paths]
    assert missing == [], f"routes with no entry in core/tests/test_every_route.py: {missing}"


def test_every_entry_is_a_route():
    """An entry for a route that is gone is a refusal nobody tries any more."""
    stale = sorted(set(ROUTES) - set(page_routes())) + sorted(set(OPERATIONS) - api_operations())
    assert stale == []


# The pages' cases run here, the API's in test_every_operation.py (the same check): two files, so
# pytest-xdist's --dist loadfile gives the two halves to two workers.
PAGE_CASES = _cases(ROUTES, page_routes(), "page")
API_CASES = _cases(OPERATIONS, sorted(api_operations()), "api")


@pytest.mark.parametrize(("kind", "key", "method", "who"), PAGE_CASES)
def test_route_refuses(world, kind, key, method, who):
    check_route_refuses(world, kind, key, method, who)


def check_route_refuses(world, kind, key, method, who):
    route = (ROUTES if kind == "page" else OPERATIONS).get(key)
    assert route is not None, f"{key!r} has no entry in ROUTES/OPERATIONS: say what it expects of each user"
    user = actor(world, who, route)
    obj = target(world, route, who, user)
    client, headers = signed_in(kind, user)
    before, before_row = counts(), row(obj)

    response = ask(client, headers, kind, key, method, route, world, user, obj)

    status = response.status_code
    assert status < 500, text(response)[:500]
    if route.public:
        return
    expected = expectation(route, method, who)
    if expected == OWN:
        assert status < 400, (status, text(response)[:300])
        return
    if expected == LIST:
        assert status == 200
        assert route.mark not in text(response)
        return
    if expected == "login":
        if kind == "page":
            assert status == 302 and response["Location"].startswith("/accounts/login/?next="), status
        else:
            assert status == 401
            assert_error_shape(response)
    elif expected == FORM:
        assert status == route.form_status, (status, text(response)[:300])
    else:
        assert status == int(expected), (status, text(response)[:300])
        if kind == "api":
            assert_error_shape(response)
        assert HOME_MARK not in text(response) and ID_NUMBER not in text(response)
    assert counts() == before, "a refused request wrote rows"
    assert row(obj) == before_row, "a refused request changed the object"


def expectation(route: Route, method: str, who: str) -> str:
    if who == "anonymous":
        return "login"
    if who == "no_permission":
        return REFUSED
    if who == "no_region":
        return route.no_region
    if route.other == FORM and method == "GET":
        return OWN
    return route.other


LIST_CASES = [pytest.param("page", k, r, id=f"/{k}") for k, r in ROUTES.items() if r.other == LIST] + [
    pytest.param("api", k, r, id=k) for k, r in OPERATIONS.items() if r.other == LIST
]


@pytest.mark.parametrize(("kind", "key", "route"), LIST_CASES)
def test_the_owner_sees_in_each_list_what_another_region_may_not(world, kind, key, route):
    """The control of the LIST expectation: 安泰社区's own user finds the mark in the answer."""
    method = "GET" if kind == "page" else key.split(" ", 1)[0]
    client, headers = signed_in(kind, world.owner)
    response = ask(client, headers, kind, key, method, route, world, world.owner, None)

    assert response.status_code == 200
    assert route.mark in text(response)


# --- the second axis: another organisation's user ----------------------------------------------

ORG_OBJECTS = ("organisation", "caregiver", "certificate")
ORG_CASES = [pytest.param("page", k, m, id=f"{m} /{k}") for k, r in ROUTES.items() if r.obj in ORG_OBJECTS for m in r.methods] + [
    pytest.param("api", k, k.split(" ", 1)[0], id=k) for k, r in OPERATIONS.items() if r.obj in ORG_OBJECTS
]


@pytest.mark.parametrize(("kind", "key", "method"), ORG_CASES)
def test_another_organisations_user_gets_404(world, kind, key, method):
    """A provider's user of 驻春路家政 (no region: their organisation is their scope) asks for
    康乃馨家政's organisation, staff and certificates: 404 (403 where the role lacks the right),
    and nothing is written."""
    route = (ROUTES if kind == "page" else OPERATIONS)[key]
    user = world.other_org_user
    obj = target(world, route, "other_org", user)
    client, headers = signed_in(kind, user)
    before, before_row = counts(), row(obj)

    response = ask(client, headers, kind, key, method, route, world, user, obj)

    expected = 404 if user.may_code(route.perm) else 403
    assert response.status_code == expected, (response.status_code, text(response)[:300])
    assert ORG_MARK not in text(response) and STAFF_MARK not in text(response)
    assert counts() == before and row(obj) == before_row


@pytest.mark.parametrize(("kind", "key", "method"), [c for c in ORG_CASES if c.values[2] == "GET"])
def test_the_organisations_own_user_reaches_it_without_a_region(world, kind, key, method):
    """The control: 康乃馨家政's own provider user (no region) gets the same pages."""
    route = (ROUTES if kind == "page" else OPERATIONS)[key]
    user = world.org_user
    obj = target(world, route, "own_org", user)
    client, headers = signed_in(kind, user)

    response = ask(client, headers, kind, key, method, route, world, user, obj)

    assert response.status_code == 200, (response.status_code, text(response)[:300])


SWEEP = [pytest.param("page", k, "GET", id=f"GET /{k}") for k, r in ROUTES.items() if "GET" in r.methods] + [
    pytest.param("api", k, "GET", id=k) for k in OPERATIONS if k.startswith("GET ")
]


@pytest.mark.parametrize(("kind", "key", "method"), SWEEP)
def test_an_organisations_user_without_region_gets_no_500_and_no_elder(world, kind, key, method):
    """Every page and read of the platform, asked by 康乃馨家政's provider user (organisation, no
    region): an answer, never a 5xx, and never 安泰社区's elder."""
    route = (ROUTES if kind == "page" else OPERATIONS)[key]
    user = world.org_user
    obj = target(world, route, "own_org", user)
    client, headers = signed_in(kind, user)

    response = ask(client, headers, kind, key, method, route, world, user, obj)

    assert response.status_code < 500, text(response)[:300]
    assert HOME_MARK not in text(response) and ID_NUMBER not in text(response)
