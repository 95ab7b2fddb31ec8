from django.urls import include, path

from yinling.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("regions/", include("regions.urls")),
    path("elders/", include("elders.urls")),
    path("audit/", include("audit.urls")),
    path("jobs/", include("jobs.urls")),
    path("", include("core.urls")),
]
