from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "服务工单"

    def ready(self):
        from orders.desk_registry import register as register_desk

        register_desk()
        from core.desk import register_desk_panel
        from orders.family import family_desk_panel

        # A relative signing in lands on the desk: it points them to the family portal.
        register_desk_panel("family", family_desk_panel)
