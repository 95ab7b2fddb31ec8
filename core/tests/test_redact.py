from hypothesis import given
from hypothesis import strategies as st

from core.idnumbers import make_id_number
from core.redact import redact_filters, redact_numbers


def test_id_number_in_a_search_is_replaced_whole():
    number = "11010519491231002X"
    assert redact_numbers(f"张 {number}") == "张 " + "*" * 18


def test_phone_with_separators_and_full_width_digits_is_replaced():
    assert "8888" not in redact_numbers("138-0013-8888")
    assert "8888" not in redact_numbers("１３８００１３８８８８")


def test_short_numbers_are_kept():
    assert redact_numbers("尾号 8888 80岁") == "尾号 8888 80岁"


def test_filters_redact_only_text_values():
    assert redact_filters({"q": "13800138888", "age_min": 80, "categories": ["alone"]}) == {
        "q": "*" * 11,
        "age_min": 80,
        "categories": ["alone"],
    }


@given(st.dates(), st.integers(0, 999), st.text(max_size=5), st.text(max_size=5))
def test_no_id_number_survives_redaction(born, seq, before, after):
    import datetime

    number = make_id_number("110105", born if born.year >= 1880 else datetime.date(1950, 1, 1), seq)
    out = redact_numbers(before + number + after)
    assert number not in out
    assert number[6:14] not in out  # nor its birth date
