app_name = "family"

urlpatterns = []
