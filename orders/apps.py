from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "服务工单"

    def ready(self):
        from orders.desk_registry import register as register_desk

        register_desk()
