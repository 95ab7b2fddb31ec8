from django.urls import include, path, re_path

from yinling.api import api, api_not_found

urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),  # an unknown /api/… path: JSON 404, not a page
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("regions/", include("regions.urls")),
    path("elders/", include("elders.urls")),
    path("merchants/", include("merchants.urls")),
    path("assessments/", include("assessments.urls")),
    path("audit/", include("audit.urls")),
    path("jobs/", include("jobs.urls")),
    path("providers/", include("providers.urls")),
    path("catalogue/", include("catalogue.urls")),
    path("needs/", include("needs.urls")),
    path("pairing/", include("pairing.urls")),
    path("visits/", include("visits.urls")),
    path("orders/", include("orders.urls")),
    path("family/", include("orders.urls_portal")),
    path("settlements/", include("settlements.urls")),
    path("alerts/", include("alerts.urls")),
    path("timebank/", include("timebank.urls")),
    path("routing/", include("routing.urls")),
    path("", include("core.urls")),
]
