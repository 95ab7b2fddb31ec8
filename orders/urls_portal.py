"""The family portal's pages, at /family/ (docs/orders-quality.md)."""

from django.urls import path

from orders import views_portal as views

app_name = "family"

urlpatterns = [
    path("", views.home, name="home"),
    path("elders/<int:elder_id>/", views.elder, name="elder"),
    path("elders/<int:elder_id>/order/", views.order_new, name="order_new"),
    path("elders/<int:elder_id>/order/<int:item_id>/", views.order_when, name="order_when"),
    path("orders/<int:order_id>/", views.order, name="order"),
    path("orders/<int:order_id>/rate/", views.rate, name="rate"),
]
