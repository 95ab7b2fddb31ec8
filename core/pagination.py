"""Pagination that stays fast at city scale.

An exact count(*) over 2,000,000 elders costs more than the page itself (measured 150–650 ms
on PostgreSQL for a city-wide list or a category filter). Lists count exactly up to
`COUNT_CAP` rows; past that they say "more than 10,000" and keep paging (the next page
exists while pages come back full). A caller that needs the exact total asks for it.

A page is read keys first: the ids of the page (`values_list("pk")[bottom:top]`), then those
rows. The first query names only the filter and sort columns, so PostgreSQL answers it from an
index alone (the scoped lists' indexes end with what the other side needs: see
docs/architecture.md, "The scope rule"), without fetching the rows it skips. A district's page
500 read 10,000 skipped rows from the table that way in 300–700 ms; keys first it is a walk of
the index. The second query fetches 20 rows by primary key.
"""

import math

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPage(Page):
    def has_next(self):
        if self.paginator.is_exact:
            return super().has_next()
        return len(self.object_list) == self.paginator.per_page


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int | None = COUNT_CAP, filter_first: bool = False, **kwargs):
        """`filter_first`: the filter is selective and index-backed (a search). When it matches at
        most COUNT_CAP rows, the page's keys are read by the filter and sorted, rather than
        PostgreSQL walking the sort order hoping to meet the matches early: the initials "zhj"
        (张…, late in pinyin order) match 0.1% of a city, which it read 1.8 million rows for
        (5 s) to find 20."""
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.filter_first = filter_first

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
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.is_exact and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int):
        """The rows [bottom, top) of the list, keys first (see the module)."""
        rows = self.object_list
        if not isinstance(rows, QuerySet) or rows.query.distinct_fields or rows.query.combinator:
            return rows[bottom:top]
        keys = rows.values_list("pk", flat=True)
        if self.filter_first and self.count <= COUNT_CAP:
            keys = keys.order_by(*_unindexed(rows))
        ids = list(keys[bottom:top])
        if not ids:
            return []
        by_id = rows.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)


def _unindexed(queryset) -> list:
    """The queryset's ordering with each field as COALESCE(f, f): the same order (and NULLs where
    they were), which no index provides, so the planner filters first and sorts."""
    ordering = []
    for name in queryset.query.order_by or queryset.model._meta.ordering:
        if not isinstance(name, str):
            ordering.append(name)
            continue
        field = F(name.lstrip("-"))
        expression = Coalesce(field, field)
        ordering.append(expression.desc() if name.startswith("-") else expression.asc())
    return ordering
