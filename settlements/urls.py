app_name = "settlements"

urlpatterns = []
