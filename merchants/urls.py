from django.urls import path

from merchants import views

app_name = "merchants"
urlpatterns = [
    path("", views.merchant_list, name="list"),
    path("new/", views.merchant_create, name="create"),
    path("map/", views.merchant_map, name="map"),
    path("map/locate/", views.map_locate, name="locate"),
    path("coverage/", views.coverage, name="coverage"),
    path("coverage/job/", views.coverage_job, name="coverage_job"),
    path("import/", views.import_start, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:job_id>/confirm/", views.import_confirm, name="import_confirm"),
    path("export/", views.export, name="export"),
    path("circle/elder/<int:elder_id>/", views.elder_circle, name="elder_circle"),
    path("<int:merchant_id>/", views.merchant_detail, name="detail"),
    path("<int:merchant_id>/edit/", views.merchant_edit, name="edit"),
]
