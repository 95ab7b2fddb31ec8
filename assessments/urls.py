from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("due/", views.due_list, name="due"),
    path("instruments/", views.instrument_list, name="instruments"),
    path("instruments/<slug:code>/publish/", views.instrument_publish, name="instrument_publish"),
    path("new/<int:elder_id>/", views.assessment_new, name="new"),
    path("<int:pk>/", views.assessment_detail, name="detail"),
    path("<int:pk>/fill/", views.assessment_fill, name="fill"),
    path("<int:pk>/answer/", views.assessment_answer, name="answer"),
    path("<int:pk>/complete/", views.assessment_complete, name="complete"),
    path("<int:pk>/report.pdf", views.assessment_report, name="report"),
]
