"""Pages of orders: the desk's (list, detail, hotline), the caregiver's phone, dispatch, quality."""

from django.urls import include, path

app_name = "orders"

urlpatterns = [
    path("", include("orders.urls_desk")),
    path("", include("orders.urls_visit")),
    path("", include("orders.urls_dispatch")),
    path("", include("orders.urls_quality")),
]
