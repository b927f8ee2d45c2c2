"""Keep a local Civis API's state across restarts (``LocalCivisAPI(data_dir=...)``).

``data_dir`` holds three things:

* ``files/`` — file contents (:class:`~._blobs.BlobStore`), written as they arrive;
* ``sql/`` — the SQLite databases (:class:`~._sql.SqlEngine`), written as they change;
* ``state.pickle`` — every stored object, run, log line and id sequence, written
  when the server stops (:func:`save`) and read when the next one starts (:func:`load`).

Run times are values of the API's clock, whose origin changes between
processes (``time.monotonic``): :func:`load` shifts them so that a run that
had finished is still finished, and ``createdAt`` stamps keep their wall time.
The pickle is only read from the directory you name: use a directory you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from .._files import write_atomically

__all__ = ["load", "save"]

STATE = "state.pickle"
_VERSION = 1


def _nodes(store):
    stack = [n for items in store.top.values() for n in items.values()]
    while stack:
        node = stack.pop()
        yield node
        for items in node.children.values():
            stack.extend(items.values())


def save(store, data_dir) -> None:
    """Write the store's objects to ``data_dir/state.pickle`` (atomically)."""
    data = store.data
    state = {"version": _VERSION, "clock": store.clock(), "clock0": store._clock0,
             "wall0": store._wall0, "top": store.top, "singletons": store.singletons,
             "creations": store.creations, "ids": store._ids,
             "files": data.files if data is not None else {},
             "table_ids": data.table_ids if data is not None else {}}
    write_atomically(Path(data_dir) / STATE, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))


def load(store, data_dir) -> bool:
    """Restore the objects saved in ``data_dir``; return False when there are none."""
    path = Path(data_dir) / STATE
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        state = pickle.load(f)  # noqa: S301 - our own file, in the user's directory
    if state.get("version") != _VERSION:
        raise ValueError(f"{path} was written by another version of civis_dyn; remove it")
    shift = store.clock() - state["clock"]
    store.top = state["top"]
    store.singletons = state["singletons"]
    store.creations = state["creations"]
    store._ids = state["ids"]
    store._clock0 = state["clock0"] + shift
    store._wall0 = state["wall0"]
    store.family = {}
    from ._store import JOB_FAMILY, under_any

    for top, items in store.top.items():
        if under_any(top, JOB_FAMILY):
            store.family.update(items)
    for node in _nodes(store):
        run = node.run
        if run is not None:
            run.t0 += shift
            if run.cancel_t is not None:
                run.cancel_t += shift
    if store.data is not None:
        store.data.files = state["files"]
        store.data.table_ids = state["table_ids"]
    return True
