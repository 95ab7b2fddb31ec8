"""A serving process freezes its start-up objects (yinling/startup.py): full collections then
skip Django's ~390,000 long-lived objects instead of walking them inside a request."""

import gc
import importlib
import sys


def test_the_wsgi_application_loads_every_view_and_freezes_what_start_up_left():
    gc.unfreeze()
    try:
        wsgi = importlib.reload(importlib.import_module("yinling.wsgi"))
        assert callable(wsgi.application)
        assert {"orders.views_desk", "routing.views", "alerts.api"} <= set(sys.modules)
        frozen = gc.get_freeze_count()
        assert frozen > 50_000
        # what the collector still tracks is what came after, not the start-up's objects
        assert len(gc.get_objects()) < frozen / 2
    finally:
        gc.unfreeze()
