from django.urls import path

from needs import views

app_name = "needs"
urlpatterns = [
    path("", views.need_list, name="list"),
    path("elder/<int:elder_id>/new/", views.need_create, name="create"),
    path("<int:need_id>/", views.need_detail, name="detail"),
    path("<int:need_id>/move/", views.need_move, name="move"),
]
