from django.urls import path

from jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list_view, name="list"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/download/", views.job_download, name="download"),
    path("<int:job_id>/rerun/", views.job_rerun_view, name="rerun"),
]
