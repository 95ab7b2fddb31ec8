"""Deployment checks: refuse the development keys when DEBUG is off."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_keys(app_configs, **kwargs):
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(Error("SECRET_KEY is the development default; set it in the environment.", id="yinling.E001"))
    if settings.FIELD_ENCRYPTION_KEY == settings.DEV_FIELD_KEY:
        errors.append(
            Error(
                "FIELD_ENCRYPTION_KEY is the development default; set a base64 32-byte key in the environment.",
                id="yinling.E002",
            )
        )
    return errors
