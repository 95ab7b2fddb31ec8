from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("board/", views.alert_board, name="board"),
    path("board/partial/", views.alert_board_partial, name="board_partial"),
    path("mine/", views.alert_mine, name="mine"),
    path("new/", views.elder_find, name="find"),
    path("elder/<int:elder_id>/new/", views.alert_create, name="create"),
    path("<int:alert_id>/", views.alert_detail, name="detail"),
    path("<int:alert_id>/respond/", views.alert_respond, name="respond"),
    path("<int:alert_id>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("<int:alert_id>/resolve/", views.alert_resolve, name="resolve"),
    path("<int:alert_id>/note/", views.alert_note, name="note"),
    path("devices/", views.device_list, name="devices"),
    path("devices/elder/<int:elder_id>/new/", views.device_create, name="device_create"),
    path("devices/<int:device_id>/", views.device_detail, name="device_detail"),
    path("devices/<int:device_id>/token/", views.device_token, name="device_token"),
    path("devices/<int:device_id>/retire/", views.device_retire, name="device_retire"),
    path("policy/", views.policy_home, name="policy_home"),
    path("policy/<int:region_id>/", views.policy_detail, name="policy"),
    path("policy/<int:region_id>/edit/", views.policy_edit, name="policy_edit"),
    path("report/", views.alert_report, name="report"),
]
