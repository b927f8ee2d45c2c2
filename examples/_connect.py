"""How the examples get a client: a real account when configured, else the local API.

Set ``CIVIS_API_KEY`` (and optionally ``CIVIS_API_ENDPOINT``) to run an example against
your Civis account; otherwise it starts the embedded local API in-process.
"""
import contextlib
import os

import civis_dyn


@contextlib.contextmanager
def api_client(**kwargs):
    """Yield ``(client, local_api or None)``."""
    if os.environ.get("CIVIS_API_KEY"):
        yield civis_dyn.APIClient(**kwargs), None
        return
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(run_delays=(0.05, 0.1)) as api:
        yield api.client(**kwargs), api
