"""makemessages that also extracts `_l("…")`: the alias some modules use for gettext_lazy.

Django's xgettext keywords cover `_`, `gettext`, `gettext_lazy`, … but not `_l`, so
strings wrapped that way never reached the catalogue. Same command, one more keyword.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_l"]
