"""The API's list kit: one page shape, one pagination, ids in and ids plus labels out.

    class ElderListOut(Paginated[ElderItemOut]):
        '''A page of elders.'''

    @router.get("", response=ElderListOut)
    def elder_list_api(request, filters: Query[ElderFilterIn], paging: Query[PageIn]):
        out = paginate(elder_list(user=request.user, filters=...), paging)
        out["items"] = [_item(e) for e in out["items"]]
        return out

Filters are a Schema taken as `Query[...]` (GET) or the body (POST), so /api/docs lists each.
Counts use core.pagination.CappedPaginator: exact up to 10,000 rows, a lower bound past that
(`count_is_exact` false, `pages` null) unless the caller asks `exact_count`. A foreign key
comes out as {"id", "name"} (IdName); a choice as its code with a `<field>_label` beside it.
"""

from typing import Generic, TypeVar

from ninja import Field, Schema

from core.pagination import COUNT_CAP, CappedPaginator

MAX_PAGE_SIZE = 100

Item = TypeVar("Item")


class PageIn(Schema):
    page: int = Field(1, ge=1, le=10**9, description="1 is the first page; past the last, the last page")
    page_size: int = Field(
        20, ge=1, le=10**9, description=f"rows per page, at most {MAX_PAGE_SIZE} (larger asks get {MAX_PAGE_SIZE})"
    )
    exact_count: bool = Field(False, description="count exactly past 10,000 rows (costs a full count over a city)")


class Paginated(Schema, Generic[Item]):
    items: list[Item]
    count: int = Field(description="exact up to 10,000 (or always with exact_count=true); see count_is_exact")
    count_is_exact: bool = Field(description="false: more than 10,000 match and count is 10,001 — a lower bound")
    page: int
    page_size: int
    pages: int | None = Field(description="how many pages; null when the count is a lower bound")


class IdName(Schema):
    """A row another one points to: its id (what input takes) and its name (what people read)."""

    id: int
    name: str


def id_name(obj) -> dict | None:
    return None if obj is None else {"id": obj.pk, "name": str(obj)}


def paginate(qs, paging: PageIn, *, max_page_size: int = MAX_PAGE_SIZE, filter_first: bool = False) -> dict:
    """One page of `qs` in the Paginated shape; its "items" are still the rows (map them).
    `filter_first`: a search, whose matches are read before they are sorted (CappedPaginator)."""
    page_size = max(1, min(paging.page_size, max_page_size))
    paginator = CappedPaginator(qs, page_size, cap=None if paging.exact_count else COUNT_CAP, filter_first=filter_first)
    page = paginator.get_page(paging.page)  # past the end: the last page, as the pages do
    return {
        "items": list(page.object_list),
        "count": paginator.count,
        "count_is_exact": paginator.is_exact,
        "page": page.number,
        "page_size": page_size,
        "pages": paginator.num_pages if paginator.is_exact else None,
    }
