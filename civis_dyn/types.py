"""The schema's response and input types, importable at run time.

The generated stubs (``civis-dyn stubs``) describe one class per response
schema (``Job``, ``JobSummary``) and one ``...Input`` ``TypedDict`` per nested
request body (``ScriptRequiredResourcesCreateRequestInput``). The same names
are importable here, so code can annotate without ``TYPE_CHECKING`` tricks::

    from civis_dyn.types import Job

    def describe(job: Job) -> str:
        return f"{job.id}: {job.name}"

The names come from the schema in use (that of the most recently built
:class:`~civis_dyn.APIClient`, else the one ``APIClient()`` would load) and
each is made on first access:

* a response name is a :class:`~civis_dyn.Response` subclass (the client
  returns plain :class:`~civis_dyn.Response` objects; the class is for
  annotations and for building typed test data, ``Job({"id": 1})``);
* an ``...Input`` name is a ``TypedDict(total=False)`` whose keys are the
  wire names and their snake_case forms; calling it makes a plain dict.
"""

__all__ = []    # the names depend on the schema: see dir(civis_dyn.types)


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from ._stubs import runtime_type

    value = runtime_type(name)
    globals()[name] = value
    return value


def __dir__():
    from ._stubs import runtime_type_names

    return sorted(set(globals()) | set(runtime_type_names()))
