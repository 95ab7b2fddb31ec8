from django.apps import AppConfig


class EldersConfig(AppConfig):
    name = "elders"
    verbose_name = "老年人信息库"
