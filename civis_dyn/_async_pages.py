"""``AsyncPaginatedResponse``: ``async for`` over every item of a paginated list endpoint."""

from ._response import PaginatedResponse

__all__ = ["AsyncPaginatedResponse"]


class AsyncPaginatedResponse(PaginatedResponse):
    """An async iterator over every item of a paginated list endpoint.

    The async twin of :class:`~civis_dyn.PaginatedResponse`, with the same
    rules for when to stop (``X-Pagination-Total-Pages``, a short or an empty
    page): one request per page, none before the first step.

    Parameters
    ----------
    fetch_page : coroutine function
        ``await fetch_page(page_num) -> (items, headers)``.
    item_schema : dict, optional
        The schema of one item (for :meth:`to_pandas`).
    """

    def __init__(self, fetch_page, start_page=1, *, item_schema=None):
        super().__init__(fetch_page, start_page, item_schema=item_schema, progress=False)

    def __iter__(self):
        raise TypeError("an AsyncPaginatedResponse is iterated with 'async for'")

    __next__ = None

    def __await__(self):
        # ``await jobs.list(iterator=True)`` gives the iterator itself, like any method call
        return self._itself().__await__()

    async def _itself(self):
        return self

    def __aiter__(self):
        return self

    async def __anext__(self):
        while True:
            try:
                return next(self._items)
            except StopIteration:
                if self._done:
                    raise StopAsyncIteration from None
                items, headers = await self._fetch_page(self._page)
                self._take_page(items, headers)

    def _take_page(self, items, headers):
        # PaginatedResponse._load_next_page's bookkeeping, with the page already fetched
        fetch = self._fetch_page
        try:
            self._fetch_page = lambda page: (items, headers)
            self._load_next_page()
        finally:
            self._fetch_page = fetch

    async def collect(self):
        """Every remaining item, in a list."""
        return [item async for item in self]

    async def json(self, snake_case=True):
        """Consume the remaining items and return them as plain dicts."""
        from ._response import _plain

        return [_plain(item, snake_case) async for item in self]

    async def to_pandas(self, flatten=False):
        """Consume the remaining items and return them as a ``pandas.DataFrame``."""
        from . import _frames

        return _frames.to_frame(await self.json(), self.item_schema, flatten)

    def __repr__(self):
        return f"<AsyncPaginatedResponse pages_fetched={self.pages_fetched}>"


