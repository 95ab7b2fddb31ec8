from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create_form, name="user_create"),
    path("users/<int:user_id>/", views.user_edit_form, name="user_edit"),
    path("users/<int:user_id>/end-sessions/", views.user_end_sessions, name="user_end_sessions"),
    path("users/<int:user_id>/password/", views.user_password, name="user_password"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:token_id>/end/", views.token_end, name="token_end"),
    path("roles/", views.roles, name="roles"),
]
