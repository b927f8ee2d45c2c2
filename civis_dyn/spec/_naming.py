"""Naming rules: API paths to resource and method names, camelCase to snake_case.

The rules reproduce the published civis-python reference:

* resource = first path segment, lower-cased, ``-`` to ``_``;
* method = verb + the literal segments after the resource, joined by ``_``;
  a ``{parameter}`` directly followed by another ``{parameter}`` adds the name
  of the first one; GET becomes ``list`` when the path ends in a literal.

The few places where the schema misdescribes the API live in the fact tables at
the bottom, one comment each.
"""

import re
from urllib.parse import unquote

__all__ = [
    "ARRAY_DESPITE_SCHEMA",
    "KEEP_CASE_KEYS",
    "camel_to_snake",
    "method_name",
    "object_name",
    "path_escape",
    "resource_name",
]


#: Fields whose nested keys are the user's own and keep their case (civis-python's rule):
#: responses do not snake_case inside them, stubs type them as free-form dicts.
KEEP_CASE_KEYS = frozenset({"arguments", "environmentVariables"})

_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_ALL_CAP = re.compile(r"([a-z0-9])([A-Z])")
_SNAKE_MEMO: dict = {}
_SNAKE_MEMO_MAX = 50_000


def camel_to_snake(name):
    """Return the snake_case form of a camelCase wire name.

    ``provideAPIKey`` gives ``provide_api_key``; names that are already
    snake_case come back unchanged. Results are memoized (bounded).
    """
    try:
        return _SNAKE_MEMO[name]
    except KeyError:
        pass
    snake = _ALL_CAP.sub(r"\1_\2", _FIRST_CAP.sub(r"\1_\2", name)).lower()
    if len(_SNAKE_MEMO) < _SNAKE_MEMO_MAX:
        _SNAKE_MEMO[name] = snake
    return snake


def _segments(path):
    return [s for s in path.split("/") if s]


def _is_param(segment):
    return segment.startswith("{") and segment.endswith("}")


def path_escape(path):
    """Return why ``path`` could leave the base URL's path prefix, or None when it cannot.

    A schema path is appended to the base URL (``https://host/prefix/`` +
    ``jobs/{id}``); a literal segment that is, or decodes to, ``.`` or ``..``
    (``%2e%2e``, ``%252e``), or that holds ``/``, ``\\``, ``?`` or ``#`` once
    decoded, would reach another path of the host (or change the query).
    """
    if not isinstance(path, str) or not path.startswith("/"):
        return "it does not start with '/'"
    if "?" in path or "#" in path or "\\" in path:
        return "it holds '?', '#' or '\\'"
    for segment in _segments(path):
        if _is_param(segment):
            continue
        decoded = segment
        for _ in range(3):  # %252e%252e -> %2e%2e -> ..
            decoded = unquote(decoded)
        if decoded in (".", "..") or any(c in decoded for c in "/\\?#"):
            return f"its segment {segment!r} is (or decodes to) a dot segment or a separator"
    return None


def resource_name(path):
    """Return the resource (client attribute) name of an API path."""
    segments = _segments(path)
    if not segments:
        return ""
    return segments[0].lower().replace("-", "_")


def method_name(verb, path):
    """Return the method name of the operation ``verb path``.

    Parameters
    ----------
    verb : str
        HTTP verb, any case.
    path : str
        The path as the schema spells it, e.g. ``/jobs/{id}/runs``.

    Returns
    -------
    str
        e.g. ``list_runs`` for ``GET /jobs/{id}/runs``.
    """
    verb = verb.lower()
    rest = _segments(path)[1:]
    parts = []
    for i, segment in enumerate(rest):
        if _is_param(segment):
            if i + 1 < len(rest) and _is_param(rest[i + 1]):
                parts.append(segment[1:-1])
        else:
            parts.append(segment)
    if verb == "get" and (not rest or not _is_param(rest[-1])):
        verb = "list"
    name = "_".join([verb, *parts]).replace("-", "_")
    return name.lower()


# GET paths whose name starts with ``list`` and whose 200 response the schema
# declares as an object, but which return JSON arrays in the real API. They keep
# their ``list_*`` names and get no ``get_*`` alias. Keyed by the path with
# parameter names replaced by ``{}`` so that renamed parameters still match.
ARRAY_DESPITE_SCHEMA = frozenset({
    "/credentials/types",                     # list of credential type names
    "/databases/{}/users",                    # list of database users
    "/jobs/{}/children",                      # list of child jobs
    "/jobs/{}/parents",                       # list of parent jobs
    "/notebooks/{}/git/commits",              # list of commits
    "/reports/{}/git/commits",                # list of commits
    "/scripts/javascript/{}/git/commits",     # list of commits
    "/scripts/python3/{}/git/commits",        # list of commits
    "/scripts/r/{}/git/commits",              # list of commits
    "/scripts/sql/{}/git/commits",            # list of commits
    "/scripts/{}/history",                    # list of past runs
    "/workflows/{}/git/commits",              # list of commits
})

_PARAM = re.compile(r"\{[^}]*\}")


def object_name(list_name):
    """The preferred name of a ``list_*`` GET that returns one object (``list_me`` -> ``get_me``).

    The ``list_*`` name stays as an alias of it (see the README's naming rules).
    """
    return "get" + list_name[4:]


def path_shape(path):
    """Return ``path`` with parameter names blanked and no trailing slash."""
    return _PARAM.sub("{}", path).rstrip("/") or "/"
