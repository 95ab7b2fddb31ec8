"""What the order desk registers with lower apps at start-up (orders/apps.py): the access log's
subject for agreements, whose PDF names the elder ("服务协议 FW2026-…-0001 王秀兰 的协议文本")."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from audit.subjects import Subject, register_subject
    from orders.agreements import agreement_names

    register_subject(
        "orders.agreement",
        Subject(
            noun=_("服务协议"),
            names=agreement_names,
            url_name="orders:agreement_detail",
            field_labels={"agreement": _("协议文本")},
        ),
    )
