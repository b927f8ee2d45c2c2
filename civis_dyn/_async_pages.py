"""``AsyncPaginatedResponse``: ``async for`` over every item of a paginated list endpoint."""

import asyncio

from ._effects import retrieve
from ._errors import ArgumentTypeError, ArgumentValueError
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
    prefetch : int, optional
        Pages to fetch ahead while the caller consumes the current one
        (default 0: a page is asked for when the previous one is used up).
        ``client.jobs.list(iterator=True, prefetch=1)`` overlaps each page's
        round trip with the work on the page before it. Still one request per
        page, never past the last page the API announced
        (``X-Pagination-Total-Pages``, which the Civis API sends); without that
        header ``prefetch=1`` asks for exactly the pages a plain iteration would,
        and a larger one up to ``prefetch - 1`` pages past a short last page
        (cancelled once it is seen). A page that failed raises where the
        iteration reaches it (after every item of the pages before it), and
        pages fetched ahead are cancelled when the iteration ends early
        (:meth:`aclose`) or fails.
    """

    def __init__(self, fetch_page, start_page=1, *, item_schema=None, prefetch=0):
        super().__init__(fetch_page, start_page, item_schema=item_schema, progress=False)
        self.prefetch = _check_prefetch(prefetch)
        self._ahead = {}  # page number -> the task fetching it

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
                fetched = self._ahead.pop(self._page, None) or self._fetch_page(self._page)
                try:
                    items, headers = await fetched
                    self._take_page(items, headers)
                except BaseException:
                    self._cancel_ahead()  # nothing after a page that failed (or a cancel)
                    raise
                if self._done:
                    self._cancel_ahead()  # the last page: nothing beyond it is wanted
                else:
                    self._fetch_ahead()

    def _fetch_ahead(self):
        """Start fetching the next ``prefetch`` pages (not past the announced last one)."""
        if not self.prefetch or self._done:
            return
        for page in range(self._page, self._page + self.prefetch):
            if self._last_page is not None and page > self._last_page:
                break
            if page not in self._ahead:
                task = asyncio.ensure_future(self._fetch_page(page))
                task.add_done_callback(retrieve)  # raised when reached, never logged as lost
                self._ahead[page] = task

    def _cancel_ahead(self):
        ahead, self._ahead = self._ahead, {}
        for task in ahead.values():
            task.cancel()

    async def aclose(self):
        """Stop: cancel the pages being fetched ahead (``async with aclosing(pages)``)."""
        self._done = True
        self._items = iter(())
        ahead = list(self._ahead.values())
        self._cancel_ahead()
        if ahead:
            await asyncio.gather(*ahead, return_exceptions=True)

    async def collect(self):
        """Every remaining item, in a list."""
        return [item async for item in self]

    async def json(self, snake_case=True):
        """Consume the remaining items and return them as plain dicts."""
        from ._response import plain_json

        return [plain_json(item, snake_case) async for item in self]

    async def to_pandas(self, flatten=False):
        """Consume the remaining items and return them as a ``pandas.DataFrame``."""
        from . import _frames

        return _frames.to_frame(await self.json(), self.item_schema, flatten)

    def __repr__(self):
        ahead = f" prefetch={self.prefetch}" if self.prefetch else ""
        return f"<AsyncPaginatedResponse pages_fetched={self.pages_fetched}{ahead}>"


def _check_prefetch(value):
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"'prefetch' must be an int (pages fetched ahead), "
                                f"not {type(value).__name__}")
    if value < 0:
        raise ArgumentValueError(f"'prefetch' must be >= 0; got {value!r}")
    return value
