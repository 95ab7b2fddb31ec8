from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "路线规划"

    def ready(self):
        from orders.day_order import register_day_planner
        from routing.selectors import planned_for_caregiver

        # The caregiver's phone page (orders, below routing) lists the day in the planned order.
        register_day_planner(lambda user, day: planned_for_caregiver(user=user, day=day))
