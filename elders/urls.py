from django.urls import path

from elders import views, views_excel

app_name = "elders"
urlpatterns = [
    path("", views.elder_list, name="list"),
    path("new/", views.elder_create, name="create"),
    path("import/", views_excel.import_start, name="import"),
    path("import/template.xlsx", views_excel.import_template, name="import_template"),
    path("import/<int:job_id>/confirm/", views_excel.import_confirm, name="import_confirm"),
    path("export/", views_excel.export_start, name="export"),
    path("id-check/", views.id_number_check, name="id_check"),
    path("receive/", views.elder_receive, name="receive"),
    path("duplicates/", views.elder_duplicates, name="duplicates"),
    path("merge/", views.elder_merge, name="merge"),
    path("<int:elder_id>/", views.elder_detail, name="detail"),
    path("<int:elder_id>/edit/", views.elder_edit, name="edit"),
    path("<int:elder_id>/status/", views.elder_status, name="status"),
    path("<int:elder_id>/reveal/", views.elder_reveal, name="reveal"),
]
