"""(to be written: see docs/orders.md)"""

from ninja import Router

router = Router(tags=["orders"])
