"""Walking what an exception leads to, for the tests that look for leaked secrets."""

__all__ = ["exception_chain"]


def exception_chain(error):
    """``error`` and every exception reachable through ``__cause__``/``__context__``, once each."""
    seen, stack = set(), [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        stack += [exc.__cause__, exc.__context__]
