"""Pages of evaluation and supervision and of the family links (docs/orders-quality.md)."""

from django.urls import path

from orders import views_quality as views

urlpatterns = [
    path("supervision/", views.supervision_board, name="supervision"),
    path("supervision/orders/", views.supervision_orders, name="supervision_orders"),
    path("scorecard/<int:organisation_id>/", views.scorecard, name="scorecard"),
    path("scorecard/<int:organisation_id>/apply/", views.scorecard_apply, name="scorecard_apply"),
    path("call-backs/", views.call_back_list, name="call_back_list"),
    path("call-backs/<int:call_back_id>/", views.call_back_record, name="call_back_record"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:follow_up_id>/", views.follow_up_detail, name="follow_up_detail"),
    path("follow-ups/<int:follow_up_id>/close/", views.follow_up_close, name="follow_up_close"),
    path("<int:order_id>/complaint/", views.follow_up_create, name="follow_up_create"),
    path("family-links/", views.family_link_list, name="family_link_list"),
    path("family-links/elder/<int:elder_id>/new/", views.family_link_create, name="family_link_create"),
    path("family-links/<int:link_id>/end/", views.family_link_end, name="family_link_end"),
]
