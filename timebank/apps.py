from django.apps import AppConfig


class TimebankConfig(AppConfig):
    name = "timebank"
    verbose_name = "时间银行"

    def ready(self):
        from timebank.jobs import register_job_kinds

        register_job_kinds()
        from orders.services import after_create, after_move, after_verify
        from settlements.payers import payer, register_payer
        from timebank import orders_link
        from timebank.payer import TimeCoin

        # The ledger and the closed loop (timebank/orders_link.py): holds, takes, releases, earnings.
        after_create(orders_link.on_order_create)
        after_move(orders_link.on_order_move)
        after_verify(orders_link.on_order_verify)
        # A time-coin order's price is paid in coins (settlements/payers.py).
        if payer(TimeCoin.code) is None:
            register_payer(TimeCoin())
