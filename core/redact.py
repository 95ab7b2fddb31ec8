"""Personal numbers out of anything that is stored or logged as text.

Search words and export filters are recorded (job parameters, the access log) so that a
person can see what was searched or exported; an ID number or phone number typed into them
must not be recorded whole (issue 8: no personal number in audit details, job parameters,
logs or URLs). Runs of seven or more digits (an ID number, with its X; a mobile or landline
number, with the usual separators) are replaced by asterisks of the same length, keeping
shorter runs such as a phone's last four digits or an age.
"""

import re
import unicodedata

# Seven or more digits, allowing the separators people type inside numbers, and a final X.
_NUMBER = re.compile(r"\+?\d(?:[\d \-–—]*\d)?[xX]?")
_MIN_DIGITS = 7


def _mask(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(ch.isdigit() for ch in text)
    if digits < _MIN_DIGITS:
        return text
    return "*" * len(text)


def redact_numbers(text: str) -> str:
    """`text` with every run of seven or more digits (full-width too) replaced by asterisks."""
    if not text:
        return text or ""
    return _NUMBER.sub(_mask, unicodedata.normalize("NFKC", str(text)))


def redact_filters(filters: dict) -> dict:
    """A filter dict with its free-text values redacted (the shape of ElderFilter.as_dict())."""
    return {k: redact_numbers(v) if isinstance(v, str) else v for k, v in filters.items()}
