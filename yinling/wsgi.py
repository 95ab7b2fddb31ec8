import os

from django.core.wsgi import get_wsgi_application

from yinling.startup import freeze_startup_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinling.settings")
application = get_wsgi_application()
freeze_startup_objects()  # full collections no longer walk Django's start-up objects (yinling/startup.py)
