"""One builder for the hand-written Swagger 2.0 schemas of the tests, and the standard mini schema.

Most tests run on :func:`mini_schema` (the ``mini_spec_path`` and ``mini_client``
fixtures); a test that needs a shape of its own builds it with the same
helpers, e.g.::

    from scaffold.schemas import ID, array, document, obj, op, ref, INTEGER, STRING

    SCHEMA = document(
        {"/widgets/{id}": {"get": op(ref("Widget"), ID)}},
        {"Widget": obj(id=INTEGER, name=STRING)})
"""

import copy

STRING, INTEGER, BOOLEAN, NUMBER = ({"type": t} for t in ("string", "integer", "boolean", "number"))
OBJECT = {"type": "object"}
TIME = {"type": "string", "format": "date-time"}


def ref(name):
    """A reference to ``#/definitions/<name>``."""
    return {"$ref": f"#/definitions/{name}"}


def array(items):
    """An array of ``items`` (a schema, or a definition name)."""
    return {"type": "array", "items": ref(items) if isinstance(items, str) else items}


def obj(*, required=(), **properties):
    """An object with these properties (and ``required`` names, when given)."""
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def param(name, where="query", kind="string", *, required=None, description=None, **extra):
    """A path or query parameter; a path parameter is required unless told otherwise.

    ``extra`` adds keys such as ``enum`` or ``items``; ``required`` and
    ``description`` are only written when given (or for a path parameter).
    """
    schema = {"name": name, "in": where, "type": kind}
    if required is None and where == "path":
        required = True
    if required is not None:
        schema["required"] = required
    if description is not None:
        schema["description"] = description
    schema.update(extra)
    return schema


def body(schema, name="body", required=True):
    """The body parameter (``schema`` may be a definition name)."""
    result = {"name": name, "in": "body", "schema": ref(schema) if isinstance(schema, str) else schema}
    if required is not None:
        result["required"] = required
    return result


def op(schema=None, *parameters, status=200, summary=None, description="success", **extra):
    """An operation answering ``status`` with ``schema`` (a schema, a definition name or None).

    ``extra`` adds keys such as ``x-deprecation-warning``.
    """
    response = {"description": description}
    if schema is not None:
        response["schema"] = ref(schema) if isinstance(schema, str) else schema
    operation = {"parameters": list(parameters), "responses": {str(status): response}}
    if summary is not None:
        operation["summary"] = summary
    operation.update(extra)
    return operation


ID = param("id", "path", "integer")
PAGING = (param("limit", kind="integer"), param("page_num", kind="integer"))


def document(paths, definitions=None, *, title="test", version="1", **extra):
    """A whole schema: ``paths`` and ``definitions``, with the Swagger header."""
    result = {"swagger": "2.0", "info": {"title": title, "version": version}, "paths": paths}
    if definitions is not None:
        result["definitions"] = definitions
    result.update(extra)
    return result


# -- the standard mini schema ------------------------------------------------------------------
def _id(name="id"):
    return param(name, "path", "integer", description="The ID.")


def _query(name, kind="string", description="", **extra):
    return param(name, kind=kind, required=False, description=description, **extra)


_MINI = None


def mini_schema():
    """The standard mini schema: every naming and parameter case, on a "things" API.

    Resources: ``things`` (list with filters and pages, CRUD, runs, shares, a
    deprecated refresh), ``users`` (``me``), ``aliases`` (two path parameters),
    ``git_repos`` (a dashed name), ``json_values`` (free-form values).
    Returns a new copy each call.
    """
    global _MINI
    if _MINI is None:
        _MINI = _build_mini()
    return copy.deepcopy(_MINI)


def _build_mini():
    thing, thing_create = ref("Thing"), ref("ThingCreate")
    return document(
        {
            "/aliases/{object_type}/{alias}": {"get": op(
                obj(id=INTEGER),
                param("object_type", "path", description="The type."),
                param("alias", "path", description="The alias."), summary="Get an alias")},
            "/git-repos/": {"get": op(array(obj(repoUrl=STRING)), summary="List git repos")},
            "/json_values/{id}": {"get": op(obj(id=INTEGER, value=OBJECT), _id(),
                                            summary="Get a JSON value")},
            "/things/": {
                "get": op(array(thing),
                          _query("name", description="Filter by name."),
                          _query("tags", "array", "Tags.", items=STRING),
                          _query("archived", "boolean"),
                          _query("limit", "integer", "Number of results."),
                          _query("page_num", "integer", "Page number."),
                          _query("order"), summary="List things"),
                "post": op(thing, body(thing_create, "ThingCreate"), summary="Create a thing"),
            },
            "/things/{id}": {
                "delete": op(None, _id(), status=204,
                             summary="Archive a thing (deprecated, use the archive endpoint instead)"),
                "get": op(thing, _id(), summary="Get a thing"),
                "patch": op(thing, _id(), body(obj(name=STRING, schedule=ref("Schedule")),
                                               "ThingUpdate"), summary="Update a thing"),
                "put": op(thing, _id(), body(thing_create, "ThingReplace"), summary="Replace a thing"),
            },
            "/things/{id}/refresh": {"post": op(
                None, _id(), status=204, summary="Refresh a thing",
                **{"x-deprecation-warning": "Warning: The things/:id/refresh endpoint is deprecated."})},
            "/things/{id}/runs": {
                "get": op(array("Run"), _id(), _query("limit", "integer"),
                          _query("page_num", "integer"), summary="List runs"),
                "post": op("Run", _id(), status=201, description="created", summary="Start a run"),
            },
            "/things/{id}/runs/{run_id}": {
                "delete": op(None, _id(), _id("run_id"), status=202, description="accepted",
                             summary="Cancel a run"),
                "get": op("Run", _id(), _id("run_id"), summary="Get a run"),
            },
            "/things/{id}/shares/users": {"put": op(
                obj(totalUserShares=INTEGER), _id(), body("Shares", "Shares"),
                summary="Set the permissions users have on this object")},
            "/users/me": {"get": op("Me", summary="Show info about the logged-in user")},
        },
        {
            "Me": obj(id=INTEGER, userName=STRING),
            "Run": obj(id=INTEGER, state=STRING),
            "Schedule": obj(scheduled={"type": "boolean", "description": "If the item is scheduled."},
                            scheduledDays={"type": "array", "description": "Days of the week.",
                                           "items": INTEGER}),
            "Shares": obj(userIds=array(INTEGER), permissionLevel=STRING,
                          sendSharedEmail=BOOLEAN, required=["userIds", "permissionLevel"]),
            "Thing": obj(id={"type": "integer", "description": "The ID of the thing."},
                         name=STRING, createdAt=TIME, schedule=ref("Schedule"),
                         arguments={"type": "object", "description": "Free-form arguments."}),
            "ThingCreate": obj(
                name={"type": "string", "description": "The name."},
                fromTemplateId={"type": "integer", "description": "Template to start from."},
                provideAPIKey={"type": "boolean", "description": "Whether to provide an API key."},
                schedule=ref("Schedule"), tags=array(STRING), arguments=OBJECT,
                state={"type": "string", "enum": ["draft", "live"]}, weight=NUMBER,
                required=["name", "fromTemplateId"]),
        },
        title="Mini Civis",
        produces=["application/json"],
        securityDefinitions={"api_key": {"in": "header", "name": "Authorization", "type": "apiKey"}},
    )
