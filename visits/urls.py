from django.urls import path

from visits import views

app_name = "visits"
urlpatterns = [
    path("", views.due_list, name="due"),
    path("mine/", views.my_dues, name="mine"),
    path("new/", views.visit_new, name="new"),
    path("new/sw.js", views.service_worker, name="sw"),
    path("records/", views.visit_list, name="list"),
    path("records/export/", views.visit_export, name="export"),
    path("records/<int:visit_id>/", views.visit_detail, name="detail"),
    path("rate/", views.rate, name="rate"),
    path("rate/missed/", views.rate_missed, name="rate_missed"),
    path("rules/", views.rules, name="rules"),
    path("rules/edit/", views.rules_edit, name="rules_edit"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("events/new/", views.event_new, name="event_new"),
]
