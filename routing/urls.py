from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("", views.plan_list, name="list"),
    path("new/", views.plan_create, name="create"),
    path("<int:plan_id>/", views.plan_board, name="board"),
    path("<int:plan_id>/replan/", views.plan_replan, name="replan"),
    path("<int:plan_id>/apply/", views.plan_apply, name="apply"),
    path("stops/<int:stop_id>/move/", views.stop_move, name="move"),
]
