from django.urls import path

from settlements import views

app_name = "settlements"

urlpatterns = [
    path("", views.statement_list, name="list"),
    path("build/", views.statement_build, name="build"),
    path("issue/", views.statements_issue, name="issue_month"),
    path("<int:statement_id>/", views.statement_detail, name="detail"),
    path("<int:statement_id>/issue/", views.statement_issue, name="issue"),
    path("<int:statement_id>/export/", views.statement_export, name="export"),
    path("orders/<int:order_id>/", views.order_shares, name="order_shares"),
    path("shares/<int:share_id>/correct/", views.share_correct, name="share_correct"),
]
