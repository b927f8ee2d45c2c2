"""``ClientConfig``: a client's settings, resolved once from arguments, environment and defaults.

Everything that builds a client or talks to the API on its own (``APIClient``,
``cache_api_spec``, the CLI) resolves its settings here, so the environment is
read in one place and the rules are the same everywhere:

* ``api_key``: the argument, else env ``CIVIS_API_KEY``, else None;
* ``base_url``: the argument, else env ``CIVIS_API_ENDPOINT``, else
  ``https://api.civisanalytics.com/`` (always ending with ``/``).

The key is held but never shown: it is left out of ``repr`` and equality.
"""

import dataclasses
import os
from dataclasses import dataclass, field

from ._errors import ArgumentTypeError, ArgumentValueError

__all__ = ["ClientConfig", "DEFAULT_BASE_URL", "RETURN_TYPES"]

DEFAULT_BASE_URL = "https://api.civisanalytics.com/"
RETURN_TYPES = ("snake", "raw")
KEY_ENV = "CIVIS_API_KEY"
ENDPOINT_ENV = "CIVIS_API_ENDPOINT"


@dataclass(frozen=True)
class ClientConfig:
    """The resolved settings of one client (read-only).

    Attributes
    ----------
    api_key : str or None
        The key sent to the API (never in ``repr``).
    base_url : str
        The API's root URL, ending with ``/``.
    return_type : str
        ``"snake"`` or ``"raw"``.
    api_version : str
    local_api_spec : str, PathLike, dict or None
    force_refresh_api_spec : bool
    retries : object
        What was passed as ``retries=`` (see :meth:`RetryPolicy.coerce`).
    user_agent : str or None
    timeout : float, tuple or None
    allow_insecure_http : bool
    """

    api_key: str | None = field(default=None, repr=False, compare=False)
    base_url: str = DEFAULT_BASE_URL
    return_type: str = "snake"
    api_version: str = "1.0"
    local_api_spec: object = None
    force_refresh_api_spec: bool = False
    retries: object = None
    user_agent: str | None = None
    timeout: object = None
    allow_insecure_http: bool = False

    @classmethod
    def resolve(cls, *, api_key=None, base_url=None, return_type="snake", environ=None, **settings):
        """Build a config from explicit settings, the environment and the defaults.

        Parameters
        ----------
        api_key, base_url : str, optional
            Default from env ``CIVIS_API_KEY`` and ``CIVIS_API_ENDPOINT``.
        return_type : str
            ``"snake"`` or ``"raw"``.
        environ : mapping, optional
            The environment to read (default :data:`os.environ`).
        **settings
            The other fields of :class:`ClientConfig`.

        Raises
        ------
        ArgumentValueError
            For an unknown ``return_type`` (a :class:`ValueError`).
        ArgumentTypeError
            For an unknown setting, or a ``base_url`` that is not a str (a :class:`TypeError`).
        """
        if return_type not in RETURN_TYPES:
            raise ArgumentValueError(f"return_type must be one of {', '.join(map(repr, RETURN_TYPES))}, "
                             f"not {return_type!r}")
        env = os.environ if environ is None else environ
        key = api_key or env.get(KEY_ENV) or None
        base = base_url or env.get(ENDPOINT_ENV) or DEFAULT_BASE_URL
        if not isinstance(base, str):
            raise ArgumentTypeError(f"base_url must be a str, not {type(base).__name__}")
        if not base.endswith("/"):
            base += "/"
        unknown = set(settings) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ArgumentTypeError(f"ClientConfig got unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(api_key=key, base_url=base, return_type=return_type, **settings)

    def replace(self, **changes):
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def as_arguments(self):
        """The ``APIClient`` keyword arguments that rebuild this config (the key left out)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "api_key"}
