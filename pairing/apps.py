from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "pairing"
    verbose_name = "结对帮扶"

    def ready(self):
        from django.db.models.signals import post_save
        from django.utils.translation import gettext_lazy as _

        from audit.subjects import Subject, register_subject
        from pairing.services import elder_region_follow

        # An elder who moves takes their pairings along (the pairing's region is a copy of theirs).
        post_save.connect(elder_region_follow, sender="elders.Elder", dispatch_uid="pairing_follow_elder_region")
        register_subject(
            "pairing.pairing",
            Subject(noun=_("结对"), names=_pairing_names, url_name="pairing:detail", field_labels={"phone": _("结对人电话")}),
        )


def _pairing_names(user, ids) -> dict[int, str]:
    from pairing.models import Pairing

    return {p.pk: str(p) for p in Pairing.objects.restrict(user, "view").filter(pk__in=ids)}
