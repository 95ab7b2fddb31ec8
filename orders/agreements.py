"""Service agreements (签订协议, seed 000): who serves an elder, which items at which prices,
and who pays what — the elder, government purchase, or the elder's subsidy quota (the
entitlement packages of the catalogue). Drafted, signed (lines and prices fixed), ended; printed
as a PDF with signature lines (orders/agreement_pdf.py; each download is in the access log).

The status moves only through AGREEMENT_MACHINE: 草拟 → 已签订 → 已终止, or a draft 作废 (ended).
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import access_log, change_record
from audit.statemachine import StateMachine
from core.access import check, get_scoped_or_404
from orders.models import Agreement
from orders.services import clean_text

AgreementStatus = Agreement.Status

# The one transition table of agreements (STYLE: state machines).
AGREEMENT_MACHINE = StateMachine(
    transitions={
        (AgreementStatus.DRAFT, "sign"): AgreementStatus.SIGNED,
        (AgreementStatus.DRAFT, "end"): AgreementStatus.ENDED,
        (AgreementStatus.SIGNED, "end"): AgreementStatus.ENDED,
    },
    field="status",
    actions={"sign": gettext_lazy("签订"), "end": gettext_lazy("终止")},
)

FREQUENCIES = {
    "once": gettext_lazy("单次"),
    "day": gettext_lazy("每天"),
    "week": gettext_lazy("每周"),
    "month": gettext_lazy("每月"),
}
# Who pays a line. `subsidy`: the elder's monthly quota of an entitlement package covers it,
# beyond the quota the elder pays (the settlement draws on the quota, settlements app).
PAYERS = {
    "elder": gettext_lazy("老人自付"),
    "government": gettext_lazy("政府购买"),
    "subsidy": gettext_lazy("补贴额度"),
    "free": gettext_lazy("无偿服务"),
}
# The item's payment modes each payer needs (catalogue.ServiceItem.payment_modes).
PAYER_MODES = {"elder": {"paid", "low_cost"}, "government": {"government"}, "free": {"free"}, "subsidy": None}
LINES_MAX = 20
TERMS_MAX = 2000

DEFAULT_TERMS = gettext_lazy(
    "一、乙方按本协议所列项目、频次和价格为甲方提供居家养老服务，服务人员持证上岗，上门签到签退。\n"
    "二、服务费用按所列付费方式结算：老人自付部分由甲方按月支付；政府购买和补贴额度部分由乙方按月与主管部门结算，甲方无需支付。\n"
    "三、甲方如需暂停或变更服务，应提前一天告知乙方或社区；乙方不能按时上门的，应提前告知甲方并另行安排。\n"
    "四、服务质量由社区监督，甲方可通过服务热线或回访反映意见。\n"
    "五、任何一方可提前七天书面通知终止本协议。本协议一式三份，甲、乙、丙三方各执一份，自签订之日起生效。"
)


@dataclass
class LineIn:
    """One line as a form or the API gives it."""

    item: object  # catalogue ServiceItem
    quantity: int
    frequency: str
    payer: str


# --- reads ----------------------------------------------------------------------------------------


def agreement_list(*, user, elder=None, status: str = "", region=None):
    """Agreements of the user's scope (an organisation: its own), latest first."""
    check(user, "view", Agreement)
    qs = Agreement.objects.restrict(user, "view")
    if region is not None:
        qs = qs.within(region)
    if elder is not None:
        qs = qs.filter(elder=elder)
    if status in AgreementStatus.values:
        qs = qs.filter(status=status)
    return qs.select_related("elder", "region", "organisation").order_by("-valid_from", "-id")


def agreement_get(*, user, agreement_id: int, action: str = "view") -> Agreement:
    qs = Agreement.objects.select_related("elder", "elder__region", "region", "organisation", "created_by")
    return get_scoped_or_404(qs, user, agreement_id, action)


def agreement_names(user, ids) -> dict[int, str]:
    """For the access log: "FW2026…-0001 王秀兰" for the agreements `user` may see."""
    rows = Agreement.objects.restrict(user).filter(pk__in=ids).values_list("pk", "number", "elder__name")
    return {pk: f"{number} {name}" for pk, number, name in rows}


def agreement_pdf_log(*, user, agreement: Agreement, ip=None, via: str = "web") -> None:
    """The PDF names the elder, their address and masked numbers: each download is logged."""
    access_log(
        kind="export",
        model="orders.agreement",
        by=user,
        region=agreement.region,
        object_id=agreement.pk,
        fields=("agreement",),
        detail={"what": "agreement_pdf", "elder": agreement.elder_id, "via": via},
        ip=ip,
    )


def agreements_signed_for(*, user, elder):
    """The elder's signed agreements the user may see (a plan may name one)."""
    return agreement_list(user=user, elder=elder, status=AgreementStatus.SIGNED)


def lines_total_fen(lines: list[dict]) -> int:
    """The sum of the lines' amounts per their period (unit price × quantity), in fen."""
    return sum(int(line.get("amount_fen") or 0) for line in lines)


# --- lines ------------------------------------------------------------------------------------------


def _quota_for(entitlements, item):
    """The quotas that cover `item` (by item, or by its category)."""
    return [
        q
        for q in entitlements.quotas
        if (q.item is not None and q.item.pk == item.pk) or (q.category is not None and q.category.pk == item.category_id)
    ]


def build_lines(*, elder, lines: list[LineIn], on: datetime.date) -> list[dict]:
    """The agreement's lines with prices at the elder's region on `on` (catalogue.selectors.
    price_for) and who pays what; every error names its line (`lines`)."""
    from catalogue.selectors import entitlements_for, prices_for

    if not lines:
        raise ValidationError({"lines": _("请至少添加一个服务项目")})
    if len(lines) > LINES_MAX:
        raise ValidationError({"lines": _("一份协议最多 %(n)d 个服务项目") % {"n": LINES_MAX}})
    seen = set()
    errors = []
    prices = prices_for([line.item for line in lines], elder.region, on)
    entitlements = None
    out = []
    for n, line in enumerate(lines, start=1):
        item = line.item
        where = _("第 %(n)d 项“%(item)s”") % {"n": n, "item": item.name}
        if item.pk in seen:
            errors.append(_("%(where)s重复，请合并为一项") % {"where": where})
            continue
        seen.add(item.pk)
        if not item.is_active:
            errors.append(_("%(where)s已停用，请删去") % {"where": where})
        if not isinstance(line.quantity, int) or not 1 <= line.quantity <= 999:
            errors.append(_("%(where)s的数量应为 1 至 999 的整数") % {"where": where})
        if line.frequency not in FREQUENCIES:
            errors.append(_("%(where)s请选择频次") % {"where": where})
        if line.payer not in PAYERS:
            errors.append(_("%(where)s请选择付费方式") % {"where": where})
            continue
        modes = PAYER_MODES[line.payer]
        allowed = set(item.payment_modes or ["paid"])
        payers = []
        if modes is not None and not modes & allowed:
            errors.append(
                _("%(where)s不能选择“%(payer)s”，请按服务清单的付费方式选择") % {"where": where, "payer": PAYERS[line.payer]}
            )
        elif line.payer == "subsidy":
            if entitlements is None:
                entitlements = entitlements_for(elder, on)
            quotas = _quota_for(entitlements, item)
            if not quotas:
                errors.append(_("%(where)s：这位老人没有覆盖此项目的补贴额度，请选择其他付费方式") % {"where": where})
            else:
                packages = "、".join(sorted({p.name for q in quotas for p in q.packages}))
                within = "；".join(f"{q.quantity}{q.unit_label}" for q in quotas)
                payers = [
                    {
                        "kind": "subsidy",
                        "label": _("补贴额度（%(packages)s）") % {"packages": packages},
                        "share": _("每月 %(within)s 以内") % {"within": within},
                    },
                    {"kind": "elder", "label": str(PAYERS["elder"]), "share": _("超出额度的部分")},
                ]
        elif line.payer == "government":
            payers = [{"kind": "government", "label": _("政府购买服务"), "share": _("全额")}]
        elif line.payer == "elder":
            payers = [{"kind": "elder", "label": str(PAYERS["elder"]), "share": _("全额")}]
        else:
            payers = [{"kind": "free", "label": str(PAYERS["free"]), "share": _("不收费")}]
        unit_price = 0 if line.payer == "free" else prices[item.pk].price_fen
        quantity = line.quantity if isinstance(line.quantity, int) else 0
        out.append(
            {
                "item": item.pk,
                "code": item.code,
                "name": item.name,
                "unit": item.unit,
                "unit_label": str(item.get_unit_display()),
                "unit_price_fen": unit_price,
                "quantity": quantity,
                "frequency": line.frequency,
                "frequency_label": str(FREQUENCIES.get(line.frequency, "")),
                "payer": line.payer,
                "payer_label": str(PAYERS.get(line.payer, "")),
                "amount_fen": unit_price * quantity,
                "payers": payers,
            }
        )
    if errors:
        raise ValidationError({"lines": errors})
    return out


# --- writes -------------------------------------------------------------------------------------------


def _number_prefix(elder, valid_from: datetime.date) -> str:
    return f"FW{valid_from:%Y}-{elder.region_id:05d}-"


def _snapshot(agreement: Agreement) -> dict:
    return {
        "number": agreement.number,
        "organisation": agreement.organisation_id,
        "valid_from": agreement.valid_from.isoformat() if agreement.valid_from else None,
        "valid_to": agreement.valid_to.isoformat() if agreement.valid_to else None,
        "lines": [
            f"{line['name']} {line['quantity']}{line['unit_label']}/{line['frequency_label']} {line['payer_label']}"
            for line in agreement.lines
        ],
    }


def _clean_dates(valid_from, valid_to) -> None:
    if valid_from is None:
        raise ValidationError({"valid_from": _("请填写生效日期")})
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": _("截止日期不能早于生效日期")})
    if valid_to is not None and (valid_to - valid_from).days > 366 * 5:
        raise ValidationError({"valid_to": _("协议期限最长 5 年，请缩短")})


@transaction.atomic
def agreement_create(
    *,
    by,
    elder,
    lines: list[LineIn],
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    organisation=None,
    terms: str = "",
) -> Agreement:
    """草拟 an agreement for an elder of the user's scope: the lines priced at the elder's region
    on the first day, a number FW<year>-<region>-<n> unique in the region."""
    check(by, "change", Agreement)
    if getattr(elder, "status", "active") != "active":
        raise ValidationError(
            {"elder": _("该老人当前状态为“%(status)s”，不能签订服务协议") % {"status": elder.get_status_display()}}
        )
    _clean_dates(valid_from, valid_to)
    if organisation is not None and organisation.status != "active":
        raise ValidationError({"organisation": _("%(org)s当前不在服务状态，请选择其他机构") % {"org": organisation.name}})
    terms = clean_text(terms or str(DEFAULT_TERMS), "terms", _("约定事项"), max_length=TERMS_MAX)
    built = build_lines(elder=elder, lines=lines, on=valid_from)
    prefix = _number_prefix(elder, valid_from)
    taken = Agreement.objects.filter(region_id=elder.region_id, number__startswith=prefix).count()
    for attempt in range(5):
        agreement = Agreement(
            elder=elder,
            region_id=elder.region_id,
            organisation=organisation,
            number=f"{prefix}{taken + 1 + attempt:04d}",
            valid_from=valid_from,
            valid_to=valid_to,
            lines=built,
            terms=terms,
            created_by=by,
        )
        agreement.full_clean(exclude=["created_by", "organisation", "elder", "region", "number"])
        try:
            with transaction.atomic():
                agreement.save()
        except IntegrityError:
            continue  # another worker took the number at the same moment: the next one
        break
    else:
        raise ValidationError({"number": _("协议编号生成冲突，请稍后重试")})
    change_record(
        obj=agreement,
        action="create",
        changes={k: [None, v] for k, v in _snapshot(agreement).items()},
        by=by,
        region=agreement.region,
    )
    return agreement


@transaction.atomic
def agreement_sign(*, by, agreement: Agreement, signatory: str, signed_on: datetime.date | None = None) -> Agreement:
    """签订: the elder (or their agent) signs; the lines are priced again on the first day (a price
    list may have changed since the draft) and fixed from now on."""
    from catalogue.selectors import item_list

    check(by, "change", Agreement)
    agreement = Agreement.objects.select_for_update().select_related("elder__region", "region").get(pk=agreement.pk)
    AGREEMENT_MACHINE.check(agreement, "sign")
    signatory = clean_text(signatory, "elder_signatory", _("签字人"), required=True, max_length=32)
    today = timezone.localdate()
    signed_on = signed_on or today
    if signed_on > today:
        raise ValidationError({"signed_on": _("签订日期不能晚于今天")})
    if getattr(agreement.elder, "status", "active") != "active":
        raise ValidationError(
            {"elder": _("该老人当前状态为“%(status)s”，不能签订服务协议") % {"status": agreement.elder.get_status_display()}}
        )
    items = {i.pk: i for i in item_list(user=by).filter(pk__in=[line["item"] for line in agreement.lines])}
    missing = [line["name"] for line in agreement.lines if line["item"] not in items]
    if missing:
        raise ValidationError({"lines": _("服务项目已从服务清单删除：%(names)s，请重新草拟协议") % {"names": "、".join(missing)}})
    lines = [LineIn(items[line["item"]], line["quantity"], line["frequency"], line["payer"]) for line in agreement.lines]
    before = [(line["name"], line["unit_price_fen"]) for line in agreement.lines]
    agreement.lines = build_lines(elder=agreement.elder, lines=lines, on=agreement.valid_from)
    agreement.elder_signatory = signatory
    agreement.signed_on = signed_on
    after = [(line["name"], line["unit_price_fen"]) for line in agreement.lines]
    changes = {"elder_signatory": ["", signatory], "signed_on": [None, signed_on.isoformat()]}
    if after != before:  # a price list changed since the draft: the history says so
        changes["unit_price_fen"] = [[f"{n} {p}" for n, p in before], [f"{n} {p}" for n, p in after]]
    AGREEMENT_MACHINE.move(
        agreement,
        "sign",
        by=by,
        changes=changes,
        update_fields=["lines", "elder_signatory", "signed_on"],
        region=agreement.region,
    )
    return agreement


@transaction.atomic
def agreement_end(*, by, agreement: Agreement, reason: str, ends_on: datetime.date | None = None) -> Agreement:
    """终止 a signed agreement (or 作废 a draft) on `ends_on` (today), with the reason; the running
    plans that name it end the same day (orders.plans.order_plan_end)."""
    from orders.plans import order_plan_end, plan_is_running

    check(by, "change", Agreement)
    agreement = Agreement.objects.select_for_update().select_related("region").get(pk=agreement.pk)
    AGREEMENT_MACHINE.check(agreement, "end")
    reason = clean_text(reason, "reason", _("终止原因"), required=True, max_length=150)
    today = timezone.localdate()
    ends_on = ends_on or today
    if ends_on < today:
        raise ValidationError({"ends_on": _("终止日期不能早于今天（%(today)s）") % {"today": today}})
    before = agreement.valid_to.isoformat() if agreement.valid_to else None
    if agreement.valid_to is None or ends_on < agreement.valid_to:
        agreement.valid_to = max(ends_on, agreement.valid_from)
    AGREEMENT_MACHINE.move(
        agreement,
        "end",
        by=by,
        reason=reason,
        changes={"valid_to": [before, agreement.valid_to.isoformat()]},
        update_fields=["valid_to"],
        region=agreement.region,
    )
    for plan in agreement.plans.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=ends_on), is_active=True):
        if plan_is_running(plan, today):
            order_plan_end(by=by, plan=plan, reason=_("服务协议终止：%(reason)s") % {"reason": reason}, ends_on=ends_on)
    return agreement
