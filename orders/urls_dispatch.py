"""Pages of dispatch (派单): the board, an order's candidates, preferences, absences."""

from django.urls import path

from orders import views_dispatch as views

urlpatterns = [
    path("board/", views.dispatch_board, name="board"),
    path("board/<int:order_id>/", views.dispatch_order, name="dispatch_order"),
    path("board/<int:order_id>/send/", views.dispatch_order_send, name="dispatch_send"),
    path("preferences/<int:elder_id>/", views.elder_preference, name="preference"),
    path("absences/", views.absence_list, name="absences"),
    path("absences/<int:absence_id>/delete/", views.absence_remove, name="absence_delete"),
]
