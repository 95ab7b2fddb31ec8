from django.urls import path

from catalogue import views

app_name = "catalogue"
urlpatterns = [
    path("", views.item_list, name="items"),
    path("items/new/", views.item_edit, name="item_create"),
    path("items/<int:item_id>/", views.item_detail, name="item_detail"),
    path("items/<int:item_id>/edit/", views.item_edit, name="item_edit"),
    path("vocabulary/", views.vocabulary, name="vocabulary"),
    path("categories/new/", views.vocabulary_edit, {"kind": "categories"}, name="category_create"),
    path("categories/<int:pk>/edit/", views.vocabulary_edit, {"kind": "categories"}, name="category_edit"),
    path("skills/new/", views.vocabulary_edit, {"kind": "skills"}, name="skill_create"),
    path("skills/<int:pk>/edit/", views.vocabulary_edit, {"kind": "skills"}, name="skill_edit"),
    path("certificates/new/", views.vocabulary_edit, {"kind": "certificates"}, name="certificate_create"),
    path("certificates/<int:pk>/edit/", views.vocabulary_edit, {"kind": "certificates"}, name="certificate_edit"),
    path("prices/", views.price_lists, name="prices"),
    path("prices/<int:region_id>/", views.price_list, name="price_list"),
    path("prices/entries/<int:entry_id>/delete/", views.price_entry_delete, name="price_entry_delete"),
    path("packages/", views.package_list, name="packages"),
    path("packages/new/", views.package_edit, name="package_create"),
    path("packages/<int:package_id>/edit/", views.package_edit, name="package_edit"),
]
