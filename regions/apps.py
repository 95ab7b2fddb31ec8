from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = "行政区划"

    def ready(self):
        # The scope turns a small subtree into a list of region ids (core.scoping).
        from core.scoping import register_region_nodes
        from regions.models import Region

        register_region_nodes(lambda: Region.objects.all())
