from django.urls import path

from pairing import views

app_name = "pairing"
urlpatterns = [
    path("", views.pairing_list, name="list"),
    path("unwatched/", views.unwatched, name="unwatched"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pairing_id>/phone/", views.mine_phone, name="mine_phone"),
    path("elder/<int:elder_id>/new/", views.pairing_create, name="create"),
    path("<int:pairing_id>/", views.pairing_detail, name="detail"),
    path("<int:pairing_id>/end/", views.pairing_end, name="end"),
]
