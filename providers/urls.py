from django.urls import path

from providers import views, views_excel

app_name = "providers"

urlpatterns = [
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<int:organisation_id>/", views.organisation_detail, name="organisation_detail"),
    path("organisations/<int:organisation_id>/edit/", views.organisation_edit, name="organisation_edit"),
    path("staff/", views.caregiver_list, name="caregiver_list"),
    path("staff/new/", views.caregiver_create, name="caregiver_create"),
    path("staff/import/", views_excel.caregiver_import, name="caregiver_import"),
    path("staff/import/template.xlsx", views_excel.caregiver_template, name="caregiver_template"),
    path("staff/import/<int:job_id>/confirm/", views_excel.caregiver_import_confirm, name="caregiver_import_confirm"),
    path("staff/export/", views_excel.caregiver_export, name="caregiver_export"),
    path("staff/<int:caregiver_id>/", views.caregiver_detail, name="caregiver_detail"),
    path("staff/<int:caregiver_id>/edit/", views.caregiver_edit, name="caregiver_edit"),
    path("staff/<int:caregiver_id>/status/", views.caregiver_status, name="caregiver_status"),
    path("staff/<int:caregiver_id>/reveal/", views.caregiver_reveal, name="caregiver_reveal"),
    path("staff/<int:caregiver_id>/certificates/new/", views.certificate_create, name="certificate_create"),
    path("certificates/expiring/", views.certificates_expiring, name="certificates_expiring"),
    path("certificates/<int:certificate_id>/edit/", views.certificate_edit, name="certificate_edit"),
    path("certificates/<int:certificate_id>/delete/", views.certificate_delete, name="certificate_delete"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:team_id>/edit/", views.team_edit, name="team_edit"),
    path("volunteers/", views.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", views.volunteer_create, name="volunteer_create"),
    path("volunteers/import/", views_excel.volunteer_import, name="volunteer_import"),
    path("volunteers/import/template.xlsx", views_excel.volunteer_template, name="volunteer_template"),
    path("volunteers/import/<int:job_id>/confirm/", views_excel.volunteer_import_confirm, name="volunteer_import_confirm"),
    path("volunteers/export/", views_excel.volunteer_export, name="volunteer_export"),
    path("volunteers/<int:volunteer_id>/", views.volunteer_detail, name="volunteer_detail"),
    path("volunteers/<int:volunteer_id>/edit/", views.volunteer_edit, name="volunteer_edit"),
    path("volunteers/<int:volunteer_id>/decide/", views.volunteer_decide, name="volunteer_decide"),
    path("volunteers/<int:volunteer_id>/reveal/", views.volunteer_reveal, name="volunteer_reveal"),
]
