from django.apps import AppConfig


class TimebankConfig(AppConfig):
    name = "timebank"
    verbose_name = "时间银行"

    def ready(self):
        from timebank.jobs import register_job_kinds

        register_job_kinds()
