"""Pages of the time bank (docs/timebank.md): members (list, join, decide, detail with the
statement, proxies, level, moving), the desk (deposits and withdrawals with the member's
confirmation), the import of a sheet of transfers, the bank's settings, the figures, and the
volunteer's phone page (/timebank/me/)."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import not_permitted_message, requires
from core.pagination import CappedPaginator
from core.request import client_address
from regions.selectors import region_get
from timebank import members as services
from timebank import selectors
from timebank.forms import (
    ApplyForm,
    BankSettingsForm,
    DecideForm,
    DeskForm,
    DonateForm,
    GiveForm,
    JoinForm,
    LevelFormSet,
    MoveForm,
    ProxyForm,
    StatementPeriodForm,
    level_initial,
)
from timebank.models import Bank, Member, MemberStatus, Proxy, Transfer
from timebank.orders_link import bank_for

PAGE_SIZE = 30


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _errors(form, exc: ValidationError):
    if hasattr(exc, "message_dict"):
        for field, msgs in exc.message_dict.items():
            for msg in msgs:
                form.add_error(field if field in form.fields else None, msg)
    else:
        for msg in exc.messages:
            form.add_error(None, msg)


def _community_options(user, bank: Bank):
    from regions.selectors import region_list

    nodes = region_list(user=user).filter(path__startswith=bank.region.path, level__gte=5).order_by("path")[:300]
    return [(r.pk, ("\u3000" if r.level > 5 else "") + r.name) for r in nodes]


# --- members ---------------------------------------------------------------------------------


@login_required
@requires("view", Bank)
def member_list(request):
    """The bank's members: pending first to decide, then everyone, by newest."""
    params = request.GET
    banks = list(selectors.bank_list(user=request.user)[:50])
    bank = None
    if _int(params.get("bank")):
        bank = selectors.bank_get(user=request.user, bank_id=_int(params.get("bank")))
    elif len(banks) == 1:
        bank = banks[0]
    status = params.get("status") if params.get("status") in MemberStatus.values else ""
    filters = selectors.MemberFilter(
        bank=bank, status=status, q=(params.get("q") or "").strip()[:32], cadre=params.get("cadre") == "1"
    )
    page = CappedPaginator(selectors.member_list(user=request.user, filters=filters), PAGE_SIZE).get_page(params.get("page"))
    pending = selectors.member_list(user=request.user, filters=selectors.MemberFilter(bank=bank, status=MemberStatus.PENDING))
    context = {
        "page": page,
        "banks": banks,
        "bank": bank,
        "statuses": MemberStatus.choices,
        "values": {"status": status, "q": filters.q, "cadre": filters.cadre},
        "pending_count": pending.count() if not status else None,
        "can_change": request.user.may_code("timebank.change_member"),
        "can_record": request.user.may_code("timebank.record_transfer"),
        "can_settings": request.user.may_code("timebank.change_bank"),
    }
    return render(request, "timebank/member_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", Member)
def member_apply(request, bank_id):
    bank = selectors.bank_get(user=request.user, bank_id=bank_id)
    form = ApplyForm(request.POST or None, regions=_community_options(request.user, bank))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = region_get(user=request.user, region_id=data["region"])
        try:
            member = services.member_apply(
                by=request.user,
                bank=bank,
                name=data["name"],
                region=region,
                phone=data["phone"],
                birth_date=data["birth_date"],
                is_retired_cadre=data["is_retired_cadre"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, _("已登记入会申请。") if member.status == MemberStatus.PENDING else _("已入会，账户已开立。")
            )
            return redirect("timebank:member_detail", member.pk)
    return render(
        request,
        "timebank/member_form.html",
        {"form": form, "bank": bank, "rules": services.rules_text(bank)},
        status=422 if form.errors else 200,
    )


@login_required
@requires("view", Bank)
def member_detail(request, member_id):
    member = selectors.member_get(user=request.user, member_id=member_id)
    return render(request, "timebank/member_detail.html", _detail_context(request, member))


def _detail_context(request, member, *, proxy_form=None, decide_form=None, move_form=None):
    account = getattr(member, "account", None)
    rows = selectors.movements(account=account) if account else None
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page")) if rows is not None else None
    other_banks = [
        (b.pk, b.name) for b in selectors.bank_list(user=request.user).exclude(pk=member.bank_id).filter(active=True)[:100]
    ]
    served = selectors.served_minutes(member=member)
    return {
        "member": member,
        "account": account,
        "page": page,
        "proxies": selectors.proxies_of(member=member),
        "proxy_form": proxy_form or ProxyForm(),
        "decide_form": decide_form or DecideForm(),
        "move_form": move_form or MoveForm(banks=other_banks),
        "can_move": bool(other_banks),
        "served": served,
        "level": services.level_info(member.bank, member.level),
        "next_level": services.next_level(member.bank, member.level),
        "can_change": request.user.may_code("timebank.change_member"),
        "can_record": request.user.may_code("timebank.record_transfer"),
        "can_export": request.user.may_code("timebank.export_bank"),
        "history": history_rows(user=request.user, records=change_records_for(user=request.user, obj=member)[:30], model=Member)
        if request.user.may_code("audit.view_changerecord")
        else [],
        "today": timezone.localdate(),
    }


@login_required
@require_POST
@requires("change", Member)
def member_decide(request, member_id):
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.member_decide(
                by=request.user,
                member=member,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("已审核。"))
            return redirect("timebank:member_detail", member.pk)
    member.refresh_from_db()
    return render(request, "timebank/member_detail.html", _detail_context(request, member, decide_form=form), status=422)


@login_required
@require_POST
@requires("change", Member)
def member_leave(request, member_id):
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    try:
        services.member_leave(by=request.user, member=member, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("已办理退出。"))
    return redirect("timebank:member_detail", member.pk)


@login_required
@require_POST
@requires("change", Member)
def member_move(request, member_id):
    """Coins follow the member to another community's bank of the same city (the ledger's move)."""
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    banks = [(b.pk, b.name) for b in selectors.bank_list(user=request.user).exclude(pk=member.bank_id)[:100]]
    form = MoveForm(request.POST, banks=banks)
    if form.is_valid():
        to_bank = selectors.bank_get(user=request.user, bank_id=form.cleaned_data["to_bank"])
        try:
            services.member_move(by=request.user, member=member, to_bank=to_bank)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("已转出到%(b)s，时间币随会员转入。") % {"b": to_bank.name})
            return redirect("timebank:member_detail", member.pk)
    return render(request, "timebank/member_detail.html", _detail_context(request, member, move_form=form), status=422)


@login_required
@require_POST
@requires("change", Member)
def proxy_register(request, member_id):
    from accounts.models import User

    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    form = ProxyForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        user = None
        if data["account"]:
            user = User.objects.filter(username=data["account"].strip(), is_active=True).first()
            if user is None:
                form.add_error("account", _("没有这个登录账号，请核对；没有账号可以留空。"))
        if not form.errors:
            try:
                services.proxy_register(
                    by=request.user,
                    member=member,
                    user=user,
                    name=data["name"],
                    relation=data["relation"],
                    consent_note=data["consent_note"],
                    can_view=data["can_view"],
                    can_spend=data["can_spend"],
                    can_give=data["can_give"],
                    ends_on=data["ends_on"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, _("已登记代理人。"))
                return redirect("timebank:member_detail", member.pk)
    return render(request, "timebank/member_detail.html", _detail_context(request, member, proxy_form=form), status=422)


@login_required
@require_POST
@requires("change", Member)
def proxy_end(request, proxy_id):
    proxy = selectors.get_scoped(Proxy.objects.select_related("member", "member__region"), request.user, proxy_id, "change")
    try:
        services.proxy_end(by=request.user, proxy=proxy)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("已结束代理。"))
    return redirect("timebank:member_detail", proxy.member_id)


# --- statements ------------------------------------------------------------------------------


def _statement_rows(account):
    return list(selectors.movements(account=account)[:2000]) if account else []


@login_required
@requires("export", Bank)
def statement_page(request, member_id):
    """The member's statement to print (a print stylesheet: the page prints as the statement),
    and the form for a period's PDF."""
    from timebank.statement_pdf import statement_log

    member = selectors.member_get(user=request.user, member_id=member_id)
    account = getattr(member, "account", None)
    rows = _statement_rows(account)
    statement_log(user=request.user, member=member, fmt="page")
    today = timezone.localdate()
    return render(
        request,
        "timebank/statement.html",
        {
            "member": member,
            "account": account,
            "rows": rows,
            "printed_at": timezone.localtime(),
            "truncated": len(rows) >= 2000,
            "period_form": StatementPeriodForm(initial={"start": today.replace(month=1, day=1), "end": today}),
        },
    )


@login_required
@requires("export", Bank)
def statement_pdf(request, member_id):
    """The member's statement for a period (?start=&end=, default this year) as an A4 PDF."""
    from timebank.statement_pdf import statement_log, statement_pdf_response, statement_period

    member = selectors.member_get(user=request.user, member_id=member_id)
    form = StatementPeriodForm(request.GET or None)
    if request.GET and not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("timebank:statement", member.pk)
    data = form.cleaned_data if request.GET else {}
    try:
        start, end = statement_period(data.get("start"), data.get("end"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("timebank:statement", member.pk)
    statement_log(user=request.user, member=member, fmt="pdf", start=start, end=end, ip=client_address(request))
    return statement_pdf_response(member=member, start=start, end=end)


def statement_workbook(member, rows) -> bytes:
    from core.xlsx import SheetWriter

    out = io.BytesIO()
    with SheetWriter(out, "对账单", widths=[18, 12, 12, 28, 12, 12, 14]) as sheet:
        sheet.header(["时间", "交易类型", "服务类别", "说明", "变动（分钟）", "余额（分钟）", "确认方式"])
        for m in rows:
            t = m.transfer
            sheet.row(
                [
                    timezone.localtime(m.at).strftime("%Y-%m-%d %H:%M"),
                    str(t.get_kind_display()),
                    str(t.get_category_display()) if t.category else "",
                    t.note,
                    int(m.minutes),
                    int(m.balance_after),
                    str(t.get_confirmation_display()) if t.confirmation else "",
                ]
            )
    return out.getvalue()


@login_required
@require_POST
@requires("export", Bank)
def statement_export(request, member_id):
    from timebank.statement_pdf import statement_log

    member = selectors.member_get(user=request.user, member_id=member_id)
    rows = _statement_rows(getattr(member, "account", None))
    statement_log(user=request.user, member=member, fmt="xlsx")
    response = HttpResponse(
        statement_workbook(member, rows), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''timebank-statement-{member.pk}.xlsx"
    return response


# --- the desk --------------------------------------------------------------------------------


@login_required
@requires("record", Transfer)
def desk(request):
    """The desk: find the member (by number or name) whose deposit or withdrawal to record."""
    q = (request.GET.get("q") or "").strip()[:32]
    found = []
    if q:
        found = list(
            selectors.member_list(user=request.user, filters=selectors.MemberFilter(q=q, status=MemberStatus.ACTIVE))[:20]
        )
    return render(request, "timebank/desk.html", {"q": q, "found": found})


@login_required
@require_http_methods(["GET", "POST"])
@requires("record", Transfer)
def desk_member(request, member_id):
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    form = DeskForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "deposit":
                transfer = services.desk_deposit(
                    by=request.user,
                    member=member,
                    minutes_served=data["minutes"],
                    category=data["category"],
                    confirmation=data["confirmation"],
                    signature=data["signature"],
                    code=data["code"],
                    note=data["note"],
                )
            else:
                transfer = services.desk_withdraw(
                    by=request.user,
                    member=member,
                    minutes=data["minutes"],
                    confirmation=data["confirmation"],
                    signature=data["signature"],
                    code=data["code"],
                    note=data["note"],
                )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("已记账：%(k)s。") % {"k": transfer.get_kind_display()})
            return redirect("timebank:desk_member", member.pk)
    account = getattr(member, "account", None)
    recent = list(selectors.movements(account=account)[:5]) if account else []
    return render(
        request,
        "timebank/desk_member.html",
        {"member": member, "account": account, "form": form, "recent": recent},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@requires("record", Transfer)
def desk_code(request, member_id):
    """Send the member a one-time code (never shown on the page)."""
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    try:
        services.desk_code_issue(by=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("验证码已发送给会员本人（及其代理人），10 分钟内有效。请会员读出验证码。"))
    return redirect(reverse("timebank:desk_member", args=[member.pk]) + "?confirm=code")


# --- the import ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@requires("record", Transfer)
def import_start(request):
    from elders.views_excel import ImportForm as UploadForm
    from jobs.selectors import job_list
    from timebank.imports import import_start as start
    from timebank.jobs import TRANSFER_IMPORT

    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = start(
                by=request.user,
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            return redirect("jobs:detail", job_id=job.pk)
    recent = job_list(user=request.user, kind=TRANSFER_IMPORT)[:10]
    return render(request, "timebank/import.html", {"form": form, "recent": recent})


@login_required
@requires("record", Transfer)
def import_template(request):
    from timebank.imports import template_workbook

    response = HttpResponse(template_workbook(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''timebank-import-template.xlsx"
    return response


@login_required
@require_POST
@requires("record", Transfer)
def import_confirm(request, job_id):
    from jobs.selectors import job_get
    from timebank.imports import import_confirm as confirm

    dry = job_get(user=request.user, job_id=job_id)
    try:
        job = confirm(by=request.user, dry_run_job=dry, skip_invalid=request.POST.get("skip_invalid") == "1")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("timebank:import")
    return redirect("jobs:detail", job_id=job.pk)


# --- the bank's settings ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", Bank)
def bank_settings(request, bank_id):
    bank = selectors.bank_get(user=request.user, bank_id=bank_id, action="change")
    rules = bank.rules or {}
    initial = {
        "name": bank.name,
        "min_age": rules.get("min_age"),
        "residence": rules.get("residence", True),
        "approval": rules.get("approval", True),
        "credit_line_minutes": bank.credit_line_minutes,
    }
    form = BankSettingsForm(request.POST or None, initial=initial, rates=bank.rates)
    levels = LevelFormSet(request.POST or None, initial=level_initial(bank.levels), prefix="level")
    if request.method == "POST" and form.is_valid() and levels.is_valid():
        data = form.cleaned_data
        new_rules = {"residence": data["residence"], "approval": data["approval"]}
        if data["min_age"] is not None:
            new_rules["min_age"] = data["min_age"]
        try:
            services.bank_settings_save(
                by=request.user,
                bank=bank,
                name=data["name"],
                rules=new_rules,
                rates=form.rates(),
                credit_line_minutes=data["credit_line_minutes"],
                levels=levels.levels(),
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("已保存时间银行设置。"))
            return redirect("timebank:bank_settings", bank.pk)
    return render(
        request,
        "timebank/bank_settings.html",
        {"bank": bank, "form": form, "levels": levels, "pools": selectors.pools(bank=bank)},
        status=422 if form.errors or (request.method == "POST" and not levels.is_valid()) else 200,
    )


@login_required
@require_POST
@requires("change", Bank)
def levels_recompute(request, bank_id):
    bank = selectors.bank_get(user=request.user, bank_id=bank_id, action="change")
    counts = services.levels_recompute(by=request.user, bank=bank)
    stars = sum(n for level, n in counts.items() if level > 0)
    messages.success(request, _("已重算星级：%(n)d 名会员达到星级标准。") % {"n": stars})
    return redirect("timebank:bank_settings", bank.pk)


# --- figures ---------------------------------------------------------------------------------

PERIODS = [("all", "全部"), ("year", "今年"), ("month", "本月"), ("last30", "近30天")]


@login_required
@requires("view", Bank)
def figures_page(request):
    """Seed 004's figures, live, for any region of the user's scope and a period."""
    from needs.views import region_options as options

    region = request.user.region
    if _int(request.GET.get("region")):
        region = region_get(user=request.user, region_id=_int(request.GET.get("region")))
    period = request.GET.get("period") if request.GET.get("period") in dict(PERIODS) else "all"
    start, end = selectors.period(period)
    figures = selectors.figures(user=request.user, region=region, start=start, end=end)
    return render(
        request,
        "timebank/figures.html",
        {
            "f": figures,
            "regions": options(request.user, max_level=5),
            "region": region,
            "period": period,
            "periods": [(k, _(v)) for k, v in PERIODS],
            "status_rows": [(label, figures.members.get(code, 0)) for code, label in MemberStatus.choices],
        },
    )


# --- the volunteer's (member's) phone page ---------------------------------------------------


def _member_guard(request):
    if not request.user.may_code("timebank.use_account"):
        raise PermissionDenied(not_permitted_message())


def _my_context(request, give_form=None, donate_form=None, join_form=None):
    own, proxies = selectors.my_members(user=request.user)
    me = next((m for m in own if m.status == MemberStatus.ACTIVE), own[0] if own else None)
    region = getattr(request.user, "region", None)
    join_bank = bank_for(region) if me is None and region is not None else None
    account = getattr(me, "account", None) if me else None
    recent = list(selectors.movements(account=account)[:10]) if account else []
    return {
        "me": me,
        "account": account,
        "recent": recent,
        "served": selectors.served_minutes(member=me) if me else 0,
        "level": services.level_info(me.bank, me.level) if me else None,
        "next_level": services.next_level(me.bank, me.level) if me else None,
        "proxies": proxies,
        "tasks": selectors.tasks_i_can_take(user=request.user) if me and me.volunteer_id else [],
        "give_form": give_form or GiveForm(),
        "donate_form": donate_form or DonateForm(),
        "join_bank": join_bank,
        "join_form": join_form or JoinForm(),
    }


@login_required
def my_page(request):
    """我的时间币: hours served, coins, recent movements, give to a relative, donate, tasks."""
    _member_guard(request)
    return render(request, "timebank/me.html", _my_context(request))


@login_required
@require_POST
def my_join(request):
    """Apply to the bank of one's own community from the phone (the bank's rules apply)."""
    from orders.selectors import worker_of

    _member_guard(request)
    form = JoinForm(request.POST)
    if form.is_valid():
        user = request.user
        try:
            region = getattr(user, "region", None)
            bank = bank_for(region) if region is not None else None
            if bank is None:
                raise ValidationError({"bank": _("您所在的社区还没有开办时间银行。")})
            worker = worker_of(user)
            volunteer = worker if worker is not None and worker._meta.model_name == "volunteer" else None
            member = services.member_apply(
                by=user,
                bank=bank,
                name=form.cleaned_data["name"] or ("" if volunteer else user.full_name),
                region=region,
                volunteer=volunteer,
                user=user,
                birth_date=form.cleaned_data["birth_date"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request,
                _("已提交入会申请，社区审核后开户。") if member.status == MemberStatus.PENDING else _("已入会，账户已开立。"),
            )
            return redirect("timebank:me")
    return render(request, "timebank/me.html", _my_context(request, join_form=form), status=422)


@login_required
@require_POST
def my_give(request):
    _member_guard(request)
    form = GiveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            member = selectors.acting_member(user=request.user, member_id=_int(request.POST.get("member")))
            services.member_give(
                by=request.user,
                from_member=member,
                to_number=data["to_number"],
                to_name=data["to_name"],
                minutes=data["minutes"],
                note=data["note"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, _("已转赠 %(m)s 给%(n)s。") % {"m": services.minutes_text(data["minutes"]), "n": data["to_name"]}
            )
            return redirect("timebank:me")
    return render(request, "timebank/me.html", _my_context(request, give_form=form), status=422)


@login_required
@require_POST
def my_donate(request):
    _member_guard(request)
    form = DonateForm(request.POST)
    if form.is_valid():
        try:
            member = selectors.acting_member(user=request.user, member_id=_int(request.POST.get("member")))
            services.member_donate(by=request.user, member=member, minutes=form.cleaned_data["minutes"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, _("感谢捐赠！%(m)s 已存入公益池。") % {"m": services.minutes_text(form.cleaned_data["minutes"])}
            )
            return redirect("timebank:me")
    return render(request, "timebank/me.html", _my_context(request, donate_form=form), status=422)
