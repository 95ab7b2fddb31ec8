"""Pages of the visit (EVV): the caregiver's phone under /orders/my/ (the service worker's scope)
and the community's queues of exceptions and stray check-ins."""

from django.urls import path

from orders import views_visit

urlpatterns = [
    path("my/", views_visit.my_day_page, name="visit_my_day"),
    path("my/sw.js", views_visit.service_worker, name="visit_sw"),
    path("my/stray/", views_visit.my_stray_page, name="visit_my_stray"),
    path("my/<int:order_id>/", views_visit.my_visit_page, name="visit_my_visit"),
    path("my/<int:order_id>/accept/", views_visit.my_visit_accept_page, name="visit_my_accept"),
    path("my/<int:order_id>/reject/", views_visit.my_visit_reject_page, name="visit_my_reject"),
    path("exceptions/", views_visit.exception_list_page, name="visit_exceptions"),
    path("exceptions/<int:exception_id>/resolve/", views_visit.exception_resolve_page, name="visit_exception_resolve"),
    path("stray-checkins/", views_visit.stray_list_page, name="visit_stray_checkins"),
    path("stray-checkins/<int:stray_id>/resolve/", views_visit.stray_resolve_page, name="visit_stray_resolve"),
]
