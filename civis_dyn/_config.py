"""``ClientConfig``: a client's settings, resolved once from arguments, environment and defaults.

Everything that builds a client or talks to the API on its own (``APIClient``,
``cache_api_spec``, the CLI) resolves its settings here, so the environment is
read in one place and the rules are the same everywhere:

* ``api_key``: the argument, else env ``CIVIS_API_KEY``, else None;
* ``base_url``: the argument, else env ``CIVIS_API_ENDPOINT``, else
  ``https://api.civisanalytics.com/`` (always ending with ``/``).

The key is held but never shown: it is left out of ``repr`` and equality.

Settings are checked here, once, so a wrong one fails at once with an error
naming it (``timeout="10"``, ``timeout=0``, a ``user_agent`` that cannot be a
header, ``base_url=123``), never later as a raw error from requests or http.client.
"""

import dataclasses
import math
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ._errors import ArgumentTypeError, ArgumentValueError
from ._limits import max_response_bytes, max_schema_bytes

__all__ = ["ClientConfig", "DEFAULT_BASE_URL", "RETURN_TYPES"]

DEFAULT_BASE_URL = "https://api.civisanalytics.com/"
RETURN_TYPES = ("snake", "raw")
KEY_ENV = "CIVIS_API_KEY"
ENDPOINT_ENV = "CIVIS_API_ENDPOINT"
HEADER_ENVS = ("CIVIS_JOB_ID", "CIVIS_RUN_ID")   # sent as X-Civis-Job-ID / X-Civis-Run-ID


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
    parameter_validation : bool
        Check call arguments against the schema before sending (False:
        values are sent as given, only made JSON).
    max_schema_bytes, max_response_bytes : int or None
        Size limits (None: env or default; see :mod:`civis_dyn._limits`).
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
    parameter_validation: bool = True
    max_schema_bytes: int | None = None
    max_response_bytes: int | None = None

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
            (A :class:`ValueError`.) For an unknown ``return_type``, or a setting with a wrong value
            (a ``timeout`` that is not positive, a ``base_url`` that is not an
            http(s) URL, a ``user_agent`` or ``CIVIS_JOB_ID`` that cannot be
            an HTTP header).
        ArgumentTypeError
            (A :class:`TypeError`.) For an unknown setting, or a setting of the wrong type.
        """
        if return_type not in RETURN_TYPES:
            raise ArgumentValueError(f"return_type must be one of {', '.join(map(repr, RETURN_TYPES))}, "
                             f"not {return_type!r}")
        env = os.environ if environ is None else environ
        if api_key is not None and not isinstance(api_key, str):
            raise ArgumentTypeError(f"api_key must be a str, not {type(api_key).__name__}")
        key = api_key or env.get(KEY_ENV) or None
        if base_url is not None and base_url != "":
            base = _check_base_url(base_url, "base_url")
        else:
            base = _check_base_url(env.get(ENDPOINT_ENV) or DEFAULT_BASE_URL, ENDPOINT_ENV)
        if not base.endswith("/"):
            base += "/"
        unknown = set(settings) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ArgumentTypeError(f"ClientConfig got unknown setting(s): {', '.join(sorted(unknown))}")
        _check_settings(settings, env)
        return cls(api_key=key, base_url=base, return_type=return_type, **settings)

    def as_arguments(self):
        """The ``APIClient`` keyword arguments that rebuild this config (the key left out)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "api_key"}


def _check_base_url(value, name):
    if not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be a str, not {type(value).__name__}")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ArgumentValueError(f"{name} is not a valid URL ({exc}): {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentValueError(f"{name} must be an http(s) URL such as {DEFAULT_BASE_URL!r}, "
                         f"not {value!r}")
    if parts.query or parts.fragment or not value.isascii() or not value.isprintable() \
            or any(c.isspace() for c in value):
        raise ArgumentValueError(f"{name} must be a plain http(s) URL (ASCII, no spaces, query or "
                         f"fragment), not {value!r}")
    return value


def _check_seconds(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{name} must be a number of seconds, not {type(value).__name__} "
                        f"({value!r})")
    if not (math.isfinite(value) and value > 0):
        raise ArgumentValueError(f"{name} must be a finite number of seconds > 0, not {value!r}")


def check_header_text(value, name):
    """Return ``value`` if it can be an HTTP header value; else :class:`ArgumentValueError`.

    Refused: text that is not latin-1, and control characters.
    """
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ArgumentValueError(f"{name} must be latin-1 text to travel in an HTTP header; "
                         f"got {value!r}") from None
    if not value.isprintable():
        raise ArgumentValueError(f"{name} must not contain control characters (it is sent as an "
                         f"HTTP header); got {value!r}")
    return value


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be a bool, not {type(value).__name__} ({value!r})")


def _check_settings(settings, env):
    """Check the settings that would otherwise fail late or silently (see the module doc)."""
    timeout = settings.get("timeout")
    if timeout is not None:
        if isinstance(timeout, (tuple, list)):
            if len(timeout) != 2:
                raise ArgumentValueError(f"timeout must be a number of seconds or a (connect, read) pair, "
                                 f"not a sequence of {len(timeout)}")
            _check_seconds(timeout[0], "timeout (connect)")
            _check_seconds(timeout[1], "timeout (read)")
        else:
            _check_seconds(timeout, "timeout")
    user_agent = settings.get("user_agent")
    if user_agent is not None:
        if not isinstance(user_agent, str):
            raise ArgumentTypeError(f"user_agent must be a str, not {type(user_agent).__name__}")
        check_header_text(user_agent, "user_agent")
    for name in HEADER_ENVS:
        value = env.get(name)
        if value:
            check_header_text(value, f"the {name} environment variable")
    for name in ("force_refresh_api_spec", "allow_insecure_http"):
        if name in settings:
            _check_bool(settings[name], name)
    api_version = settings.get("api_version")
    if api_version is not None and not isinstance(api_version, str):
        raise ArgumentTypeError(f"api_version must be a str, not {type(api_version).__name__}")
    max_schema_bytes(settings.get("max_schema_bytes"))
    max_response_bytes(settings.get("max_response_bytes"))
