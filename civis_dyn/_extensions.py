"""The convenience methods offered on resources (``client.jobs.run_and_wait``).

Each is ``(name, "module:function", requires)``: the module is imported when
the method is first used, and ``requires`` says which resources get it
(alternatives of required API methods, or a predicate on the schema's run
model; see :class:`civis_dyn._resources.Extension`). :mod:`civis_dyn._resources`
registers them when it is imported.
"""

__all__ = ["EXTENSIONS", "offers_runs"]


def offers_runs(*roles):
    """:func:`civis_dyn.spec._runs.offers_runs`, imported on first use."""
    predicate = []

    def applies(spec, resource):
        if not predicate:
            from .spec._runs import offers_runs as make

            predicate.append(make(*roles))
        return predicate[0](spec, resource)

    applies.__name__ = "offers_runs(" + ", ".join(map(repr, roles)) + ")"
    return applies


EXTENSIONS = (
    # civis_dyn.conveniences: find by name, create-or-update, export/import, housekeeping
    ("archive_stale", "civis_dyn.conveniences:archive_stale",
     (("list", "put_archive"), ("list", "put_*_archive"))),
    ("cancel_runs", "civis_dyn.conveniences:cancel_runs", offers_runs("list", "cancel")),
    ("count_runs_by_state", "civis_dyn.conveniences:count_runs_by_state", offers_runs("list")),
    ("create_or_update", "civis_dyn.conveniences:create_or_update", (("list", "post"),)),
    ("export_definition", "civis_dyn.conveniences:export_definition", (("get",),)),
    ("find_by_name", "civis_dyn.conveniences:find_by_name", (("list",),)),
    ("get_id", "civis_dyn.conveniences:get_id", (("list",),)),
    ("import_definition", "civis_dyn.conveniences:import_definition", (("post",),)),
    # civis_dyn.io: client.files.upload / download
    ("download", "civis_dyn.io._files:download", (("get", "post_multipart"),)),
    ("upload", "civis_dyn.io._files:upload", (("post", "post_multipart"),)),
    # civis_dyn.futures: start, wait for, watch and follow runs of every runnable kind
    ("follow_logs", "civis_dyn.futures:follow_resource_logs", offers_runs("get", "logs")),
    ("run", "civis_dyn.futures:run", offers_runs("start", "get")),
    ("run_and_wait", "civis_dyn.futures:run_and_wait", offers_runs("start", "get")),
    ("watch_run", "civis_dyn.futures:watch_run", offers_runs("get")),
)
