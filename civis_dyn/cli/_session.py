"""The state one ``civis-dyn`` run shares between its commands: which schema, which client.

The client is built on first need, with the same resolution as ``APIClient()``
(``CIVIS_API_KEY``, ``CIVIS_API_ENDPOINT``) plus the global ``--spec PATH``
option or ``CIVIS_DYN_SPEC`` naming a local schema file. ``civis-dyn --help``
and ``civis-dyn jobs list --help`` need only the client's schema, never the key.

The errors civis_dyn raises are turned into click's exceptions here, so that
every command exits 1 with the API's message on stderr for API and connection
errors, and 2 for usage errors.
"""

import contextlib
import os
import warnings

import click

from .._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CivisDynError,
)
from ._output import terminal_text

__all__ = ["SPEC_ENV", "ApiFailure", "CliSession", "api_errors", "session_of"]

SPEC_ENV = "CIVIS_DYN_SPEC"
_META_KEY = "civis_dyn.session"


class CliSession:
    """Builds, once per run, the :class:`civis_dyn.APIClient` the commands use.

    Parameters
    ----------
    spec_path : str or None
        A local schema file (``--spec`` / ``CIVIS_DYN_SPEC``), or None for the
        client's own resolution.
    retries : int or None
        Retries per request (``--retries``); None for the client's policy.

    Attributes
    ----------
    resource_groups : dict
        The resource groups built during this run (resource name -> group).
    """

    def __init__(self, spec_path=None, retries=None):
        self.spec_path = spec_path or None
        self.retries = retries
        self.resource_groups = {}
        self._client = None

    @property
    def client(self):
        """The :class:`civis_dyn.APIClient` (built on first use)."""
        if self._client is None:
            from .._client import APIClient

            with api_errors():
                self._client = APIClient(local_api_spec=self.spec_path, retries=self.retries,
                                         user_agent="civis-dyn-cli")
        return self._client

    @property
    def spec(self):
        """The client's :class:`~civis_dyn.spec._model.ApiSpec`."""
        return self.client.meta.spec

    def __repr__(self):
        return f"<CliSession spec={self.spec_path!r} built={self._client is not None}>"


def session_of(ctx):
    """Return the run's :class:`CliSession`, creating it from the root options.

    Works before the root's own options are processed (``--help`` is handled
    eagerly, and click asks for the subcommands while parsing): then the
    environment variable is used.
    """
    session = ctx.meta.get(_META_KEY)
    if session is None:
        root = ctx.find_root()
        spec_path = root.params.get("spec_path") or os.environ.get(SPEC_ENV)
        session = ctx.meta[_META_KEY] = CliSession(spec_path, root.params.get("retries"))
    return session


class ApiFailure(click.ClickException):
    """An error the API (or the connection to it) reported: exit status 1."""

    exit_code = 1


@contextlib.contextmanager
def api_errors(ctx=None):
    """Turn civis_dyn's exceptions into click exceptions with the right exit status.

    API errors, connection errors, a missing key and failed runs exit 1 with
    their message (which never contains the key); a wrong argument value is a
    usage error (exit 2). Warnings (deprecated operations) go to stderr as one
    line each.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FutureWarning)
        warnings.simplefilter("always", DeprecationWarning)
        try:
            yield
        except (ArgumentTypeError, ArgumentValueError) as exc:
            raise click.UsageError(terminal_text(str(exc), keep_newlines=True), ctx) from None
        except CivisDynError as exc:  # CivisAPIError, connection errors, no key, failed runs
            raise ApiFailure(terminal_text(str(exc), keep_newlines=True)) from None
        finally:
            for warning in caught:
                click.echo(terminal_text(f"Warning: {warning.message}"), err=True)
