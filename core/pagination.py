"""Pagination that stays fast at city scale.

An exact count(*) over 2,000,000 elders costs more than the page itself (measured 150–650 ms
on PostgreSQL for a city-wide list or a category filter). Lists count exactly up to
`COUNT_CAP` rows; past that they say "more than 10,000" and keep paging (the next page
exists while pages come back full). A caller that needs the exact total asks for it.
"""

import math

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPage(Page):
    def has_next(self):
        if self.paginator.is_exact:
            return super().has_next()
        return len(self.object_list) == self.paginator.per_page


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int | None = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        if self.cap is None:
            return super().count
        # SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1), unordered so it stops after cap + 1 rows.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_exact(self) -> bool:
        return self.cap is None or self.count <= self.cap

    @cached_property
    def num_pages(self) -> int:
        if self.is_exact:
            return super().num_pages
        return math.ceil(self.cap / self.per_page)  # the pages known to exist

    def validate_number(self, number):
        if self.is_exact:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        if self.is_exact:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)
