"""The community worker's order desk, the hotline, recurring plans and agreements (docs/orders.md)."""

from django.urls import path

from orders import views_desk, views_plans

urlpatterns = [
    path("", views_desk.order_list, name="order_list"),
    path("<int:order_id>/", views_desk.order_detail, name="order_detail"),
    path("<int:order_id>/dispatch/", views_desk.order_dispatch, name="order_dispatch"),
    path("<int:order_id>/reject/", views_desk.order_reject, name="order_reject"),
    path("<int:order_id>/cancel/", views_desk.order_cancel, name="order_cancel"),
    path("<int:order_id>/dispute/", views_desk.order_dispute, name="order_dispute"),
    path("hotline/", views_desk.hotline, name="hotline"),
    path("new/", views_desk.order_new, name="order_new"),
    path("new/<int:elder_id>/", views_desk.order_new_for_elder, name="order_new_for_elder"),
    path("elder/<int:elder_id>/", views_desk.elder_orders, name="elder_orders"),
    path("plans/", views_plans.plan_list, name="plan_list"),
    path("plans/new/", views_plans.plan_new, name="plan_new"),
    path("plans/new/<int:elder_id>/", views_plans.plan_new_for_elder, name="plan_new_for_elder"),
    path("plans/preview/", views_plans.plan_preview, name="plan_preview"),
    path("plans/<int:plan_id>/", views_plans.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/edit/", views_plans.plan_edit, name="plan_edit"),
    path("plans/<int:plan_id>/end/", views_plans.plan_end, name="plan_end"),
    path("agreements/", views_plans.agreement_list, name="agreement_list"),
    path("agreements/new/", views_plans.agreement_new, name="agreement_new"),
    path("agreements/new/<int:elder_id>/", views_plans.agreement_new_for_elder, name="agreement_new_for_elder"),
    path("agreements/<int:agreement_id>/", views_plans.agreement_detail, name="agreement_detail"),
    path("agreements/<int:agreement_id>/sign/", views_plans.agreement_sign, name="agreement_sign"),
    path("agreements/<int:agreement_id>/end/", views_plans.agreement_end, name="agreement_end"),
    path("agreements/<int:agreement_id>/agreement.pdf", views_plans.agreement_pdf, name="agreement_pdf"),
]
