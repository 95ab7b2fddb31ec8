"""{% orders_tabs "orders" %}: the desk's tabs (orders, plans, agreements, the dispatch board), by
what the user may see; {% orders_panel elder %}: the elder's orders on the elder detail page
(elders sits below orders, so the panel comes in by a tag rather than the elders view)."""

from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("orders/desk/_tabs.html", takes_context=True)
def orders_tabs(context, active: str):
    from orders.models import Agreement, Order, OrderPlan

    user = context["request"].user
    return {
        "active": active,
        "show_orders": user.may("view", Order),
        "show_plans": user.may("view", OrderPlan),
        "show_agreements": user.may("view", Agreement),
        "show_board": user.may("dispatch", Order),
        "show_hotline": user.may("add", Order),
    }


@register.inclusion_tag("orders/desk/_elder_panel.html", takes_context=True)
def orders_panel(context, elder):
    from orders.models import Order, OrderPlan
    from orders.plans import plan_is_running, plan_list
    from orders.selectors import OrderFilter, order_list

    user = context["request"].user
    if not user.may("view", Order):
        return {"show": False}
    upcoming = list(order_list(user=user, filters=OrderFilter(elder=elder, status="open"))[:5])
    plans = []
    if user.may("view", OrderPlan):
        today = timezone.localdate()
        plans = [p for p in plan_list(user=user, elder=elder, state="active")[:5] if plan_is_running(p, today)]
    return {
        "show": True,
        "elder": elder,
        "orders": upcoming,
        "plans": plans,
        "can_add": user.may("add", Order) and elder.status == "active",
        "can_plan": user.may("change", OrderPlan) and elder.status == "active",
    }


@register.inclusion_tag("orders/desk/_need_link.html", takes_context=True)
def order_from_need(context, need):
    """A "下单" button on a need's page, for whoever may create orders (the need's open)."""
    from orders.models import Order

    user = context["request"].user
    show = user.may("add", Order) and need.state in ("open", "planned")
    return {"show": show, "need": need, "count": need.orders.count() if user.may("view", Order) else 0}
