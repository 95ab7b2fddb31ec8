from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = "签约服务网点"

    def ready(self):
        from merchants.jobs import register_job_kinds

        register_job_kinds()
