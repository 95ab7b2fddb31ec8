from django.apps import AppConfig


class NeedsConfig(AppConfig):
    name = "needs"
    verbose_name = "需求台账"

    def ready(self):
        from django.db.models.signals import post_save

        from core.desk import register_desk_panel
        from needs.selectors import need_desk_figures
        from needs.services import elder_region_follow

        register_desk_panel("needs", lambda user: need_desk_figures(user=user) if user.may_code("needs.view_need") else None)
        # An elder who moves takes their needs along (the ledger's region is a copy of theirs).
        post_save.connect(elder_region_follow, sender="elders.Elder", dispatch_uid="needs_follow_elder_region")
