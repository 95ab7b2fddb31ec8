from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Data for development, demos and benchmarks, never the domain: the demo community and
    its logins (`seed_demo`, `print_demo_logins`) and the synthetic city (`generate_city`).
    It sits above every domain app and writes through their services (docs/architecture.md)."""

    name = "devdata"
    verbose_name = "演示与基准数据"
