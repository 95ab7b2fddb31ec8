"""Free text people type: refuse characters that are invisible or change how text is shown.

Unicode categories Cc (control), Cf (format: U+202E right-to-left override, U+200B zero
width space, U+2066–2069 bidi isolates, U+FEFF…) have no place in a name, an address or a
note: a right-to-left override (U+202E) shows the text after it reversed, so a name can
display as something it is not; invisible characters make two equal-looking names different
records; control characters break the exported sheet. Ordinary white space (tab, line feed, carriage return) is allowed; one-line
fields fold it away anyway. Used by every door into the register (elders.validation) and by
the other free-text writes (regions).
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ORDINARY_WHITESPACE = frozenset("\t\n\r")


def invisible_characters(value: str) -> list[str]:
    """The Cc/Cf characters in `value` (other than tab and line breaks), in order."""
    return [ch for ch in value if ch not in ORDINARY_WHITESPACE and unicodedata.category(ch) in ("Cc", "Cf", "Cs")]


def refuse_invisible_characters(value: str) -> str:
    """Return `value`, or raise naming the first bad character and where it is."""
    found = invisible_characters(value or "")
    if found:
        ch = found[0]
        position = value.index(ch) + 1
        raise ValidationError(
            _("第%(pos)d个字符是不可见的控制或格式字符（U+%(code)04X %(name)s），请删除后重新输入")
            % {"pos": position, "code": ord(ch), "name": unicodedata.name(ch, "")},
            code="invisible",
        )
    return value
