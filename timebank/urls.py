from django.urls import path

from timebank import views

app_name = "timebank"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("banks/<int:bank_id>/join/", views.member_apply, name="member_apply"),
    path("banks/<int:bank_id>/settings/", views.bank_settings, name="bank_settings"),
    path("banks/<int:bank_id>/levels/", views.levels_recompute, name="levels_recompute"),
    path("members/<int:member_id>/", views.member_detail, name="member_detail"),
    path("members/<int:member_id>/decide/", views.member_decide, name="member_decide"),
    path("members/<int:member_id>/leave/", views.member_leave, name="member_leave"),
    path("members/<int:member_id>/move/", views.member_move, name="member_move"),
    path("members/<int:member_id>/proxies/", views.proxy_register, name="proxy_register"),
    path("members/<int:member_id>/statement/", views.statement_page, name="statement"),
    path("members/<int:member_id>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("members/<int:member_id>/statement.xlsx", views.statement_export, name="statement_export"),
    path("proxies/<int:proxy_id>/end/", views.proxy_end, name="proxy_end"),
    path("desk/", views.desk, name="desk"),
    path("desk/<int:member_id>/", views.desk_member, name="desk_member"),
    path("desk/<int:member_id>/code/", views.desk_code, name="desk_code"),
    path("import/", views.import_start, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:job_id>/confirm/", views.import_confirm, name="import_confirm"),
    path("figures/", views.figures_page, name="figures"),
    path("me/", views.my_page, name="me"),
    path("me/join/", views.my_join, name="my_join"),
    path("me/give/", views.my_give, name="my_give"),
    path("me/donate/", views.my_donate, name="my_donate"),
]
