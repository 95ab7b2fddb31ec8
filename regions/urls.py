from django.urls import path

from regions import views

app_name = "regions"
urlpatterns = [
    path("", views.region_browse, name="list"),
    path("<int:parent_id>/add/", views.region_add, name="add"),
    path("<int:region_id>/edit/", views.region_edit, name="edit"),
]
