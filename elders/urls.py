from django.urls import path

from elders import views

app_name = "elders"
urlpatterns = [
    path("", views.elder_list, name="list"),
    path("new/", views.elder_create, name="create"),
    path("id-check/", views.id_number_check, name="id_check"),
    path("duplicates/", views.elder_duplicates, name="duplicates"),
    path("merge/", views.elder_merge, name="merge"),
    path("<int:elder_id>/", views.elder_detail, name="detail"),
    path("<int:elder_id>/edit/", views.elder_edit, name="edit"),
    path("<int:elder_id>/status/", views.elder_status, name="status"),
    path("<int:elder_id>/reveal/", views.elder_reveal, name="reveal"),
]
