"""Tests of tools/reference_parser.py on each layout of the published reference.

Hand-picked methods of ``000`` (Jobs, indented bullets), ``002`` (Workflows,
flat dash list), ``003`` (Services, indented bullets) and ``001`` (the whole
API, old layout).
"""
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tools import reference_parser as rp  # noqa: E402


@pytest.fixture(scope="module")
def docs(reference_dir):
    return rp.parse_reference_dir(reference_dir)


def _file(reference_dir, prefix):
    return next(reference_dir.glob(prefix + "_*.txt"))


def _names(items):
    return [i.name for i in items]


def _by_name(items, name):
    return next(i for i in items if i.name == name)


# -- split_name_type -------------------------------------------------------


@pytest.mark.parametrize(
    "text, style, known, expected",
    [
        ("idint", "current", ["id"], ("id", "int", False, False)),
        ("user_idsList[int]", "current", ["user_ids"], ("user_ids", "List[int]", False, False)),
        ("created_atstr (time)", "current", [], ("created_at", "str (time)", False, False)),
        ("name : str", "current", [], ("name", "str", False, False)),
        ("hiddenbool, optional", "current", [], ("hidden", "bool", True, False)),
        ("numberinteger", "old", [], ("number", "integer", False, False)),
        ("object_typestring, optional", "old", [], ("object_type", "string", True, False)),
        ("paramslist, optional::", "old", [], ("params", "list", True, True)),
        ("released_atstring/date-time", "old", [], ("released_at", "string/date-time", False, False)),
    ],
)
def test_split_name_type(text, style, known, expected):
    assert rp.split_name_type(text, style, known) == expected


def test_split_name_type_rejects_prose():
    assert rp.split_name_type("The ID of the Job.", "current") is None
    assert rp.split_name_type("civis.response.Response", "current") is None


@pytest.mark.parametrize(
    "raw, style, expected",
    [
        ("integer", "old", "int"),
        ("string/date-time", "old", "str (date-time)"),
        ("number/float", "old", "float (float)"),
        ("dict", "old", "dict"),
        ("array", "old", "List"),
        ("List[int]", "current", "List[int]"),
        ("str (time)", "current", "str (time)"),
    ],
)
def test_current_type(raw, style, expected):
    assert rp.current_type(raw, style) == expected


# -- 000: Jobs ---------------------------------------------------------------


def test_jobs_comes_from_000(docs):
    jobs = docs["jobs"]
    assert jobs.class_name == "Jobs"
    assert jobs.source_file.startswith("000_")
    assert len(jobs.methods) == 23
    assert all(m.style == "current" for m in jobs.methods.values())


def test_jobs_list_runs_logs(docs):
    m = docs["jobs"].methods["list_runs_logs"]
    assert m.signature == "(id: int, run_id: int, *, last_id: int = None, limit: int = None)"
    assert m.summary == "Get the logs for a run"
    assert [(p.name, p.type, p.optional) for p in m.params] == [
        ("id", "int", False), ("run_id", "int", False),
        ("last_id", "int", True), ("limit", "int", True),
    ]
    assert m.params[2].description.startswith("The ID of the last log message received.")
    assert m.returns == "Response" and m.response_code is None
    assert _names(m.response_fields) == ["id", "created_at", "message", "level"]
    assert _by_name(m.response_fields, "created_at").type == "str (date-time)"


def test_jobs_response_codes(docs):
    methods = docs["jobs"].methods
    assert methods["delete_runs"].returns == "None"
    assert methods["delete_runs"].response_code == "202: success"
    assert methods["put_projects"].response_code == "204: success"
    assert methods["delete_runs"].response_fields == []


def test_jobs_get_nested_fields(docs):
    m = docs["jobs"].methods["get"]
    runs = _by_name(m.response_fields, "runs")
    assert runs.type == "List[dict]"
    assert runs.description == "Information about the most recent runs of the job."
    assert _names(runs.children) == ["id", "state", "created_at", "started_at", "finished_at", "error"]
    created = _by_name(runs.children, "created_at")
    assert (created.type, created.raw_type) == ("str (time)", "str (time)")
    assert created.description == "The time that the run was queued."
    author = _by_name(m.response_fields, "author")
    assert author.type == "dict"
    assert _names(author.children) == ["id", "name", "username", "initials", "online"]
    schedule = _by_name(m.response_fields, "schedule")
    assert _by_name(schedule.children, "scheduled_days").type == "List[int]"
    # fields after a nested block are back at the top level
    assert "my_permission_level" in _names(m.response_fields)


def test_jobs_list_is_paginated(docs):
    m = docs["jobs"].methods["list"]
    assert m.returns == "PaginatedResponse"
    assert m.signature.startswith("(*, state: str = None, type: str = None,")
    assert m.signature.endswith("iterator: bool = None)")
    it = _by_name(m.params, "iterator")
    assert (it.type, it.optional) == ("bool", True)


def test_jobs_param_without_description(docs):
    m = docs["jobs"].methods["list_workflows"]
    assert [(p.name, p.description) for p in m.params] == [
        ("id", ""), ("archived", "The archival status of the requested item(s)."),
    ]


def test_jobs_list_params(docs):
    m = docs["jobs"].methods["put_shares_users"]
    assert [(p.name, p.type, p.optional) for p in m.params] == [
        ("id", "int", False), ("user_ids", "List[int]", False),
        ("permission_level", "str", False), ("share_email_body", "str", True),
        ("send_shared_email", "bool", True),
    ]


# -- 002: Workflows (flat dash list) -------------------------------------------


def test_workflows_get_executions_nesting(docs):
    m = docs["workflows"].methods["get_executions"]
    assert m.signature == "(id: int, execution_id: int)"
    assert m.returns == "Response"
    top = _names(m.response_fields)
    assert top[:5] == ["id", "state", "mistral_state", "mistral_state_info", "user"]
    assert top[-4:] == ["started_at", "finished_at", "created_at", "updated_at"]
    tasks = _by_name(m.response_fields, "tasks")
    assert tasks.type == "List[dict]"
    assert _names(tasks.children) == ["name", "mistral_state", "mistral_state_info", "runs", "executions"]
    runs = _by_name(tasks.children, "runs")
    assert _names(runs.children) == [
        "id", "job_id", "my_permission_level", "state", "created_at", "started_at", "finished_at",
    ]
    executions = _by_name(tasks.children, "executions")
    assert _names(executions.children)[:2] == ["id", "workflow_id"]
    assert _names(_by_name(m.response_fields, "user").children) == [
        "id", "name", "username", "initials", "online",
    ]


def test_workflows_post_params(docs):
    m = docs["workflows"].methods["post"]
    assert m.signature.startswith("(name: str, *, description: str = None,")
    assert _names(m.params) == [
        "name", "description", "from_job_chain", "definition", "schedule",
        "allow_concurrent_executions", "time_zone", "notifications", "hidden",
    ]
    schedule = _by_name(m.params, "schedule")
    assert (schedule.type, schedule.optional) == ("dict", True)
    assert _names(schedule.children)[0] == "scheduled"
    assert _by_name(schedule.children, "scheduled_days").type == "List[int]"
    assert _by_name(m.params, "notifications").children[0].name == "urls"


def test_workflows_block_without_header(docs):
    """The reference lost the header line of a few blocks; they are recovered."""
    methods = docs["workflows"].methods
    m = methods["delete_shares_groups"]
    assert m.summary == "Revoke the permissions a group has on this object"
    assert m.signature == "(id: int, group_id: int)"
    assert m.returns == "None" and m.response_code == "204: success"
    shares = methods["put_shares_users"]
    assert shares.signature == (
        "(id: int, user_ids: List[int], permission_level: str, *, "
        "share_email_body: str = None, send_shared_email: bool = None)"
    )
    readers = _by_name(methods["list_shares"].response_fields, "readers")
    assert _names(readers.children) == ["users", "groups"]
    assert _names(readers.children[0].children) == ["id", "name"]


def test_workflows_methods_missing_from_summary_list(docs):
    methods = docs["workflows"].methods
    assert "post_git_checkout" in methods and "post_git_checkout_latest" in methods
    assert methods["list"].returns == "PaginatedResponse"
    assert _by_name(methods["list"].params, "state").type == "List[str]"


def test_parse_reference_002_alone_uses_sibling_files(reference_dir, docs):
    alone = rp.parse_reference(_file(reference_dir, "002"))
    assert [r.name for r in alone] == ["workflows"]
    m = alone[0].methods["get_executions"]
    assert m.response_fields == docs["workflows"].methods["get_executions"].response_fields


# -- 003: Services ---------------------------------------------------------------


def test_services_patch_nested_params(docs):
    m = docs["services"].methods["patch"]
    assert docs["services"].source_file.startswith("003_")
    schedule = _by_name(m.params, "schedule")
    assert _names(schedule.children) == ["runtime_plan", "recurrences"]
    rec = schedule.children[1]
    assert rec.type == "List[dict]"
    assert [(c.name, c.type) for c in rec.children] == [
        ("scheduled_days", "List[int]"), ("scheduled_hours", "List[int]"),
    ]
    assert _by_name(m.params, "credentials").type == "List[int]"
    assert _names(_by_name(m.params, "notifications").children) == [
        "failure_email_addresses", "failure_on",
    ]


def test_services_signatures_and_codes(docs):
    methods = docs["services"].methods
    assert methods["delete_deployments"].signature == "(service_id: int, deployment_id: int)"
    assert methods["delete_deployments"].response_code == "204: success"
    assert methods["list_deployments_logs"].signature == (
        "(id: int, deployment_id: int, *, start_at: str = None, end_at: str = None, limit: int = None)"
    )
    assert methods["list_deployments"].returns == "PaginatedResponse"


# -- 001: the old layout -------------------------------------------------------


def test_old_list_announcements(docs):
    m = docs["admin"].methods["list_announcements"]
    assert m.style == "old"
    assert m.signature == (
        "(*, limit='DEFAULT', page_num='DEFAULT', order='DEFAULT', "
        "order_dir='DEFAULT', iterator='DEFAULT')"
    )
    assert m.current_signature() == (
        "(*, limit: int = None, page_num: int = None, order: str = None, "
        "order_dir: str = None, iterator: bool = None)"
    )
    limit = m.params[0]
    assert (limit.name, limit.type, limit.raw_type, limit.optional) == ("limit", "int", "integer", True)
    assert m.returns == "PaginatedResponse"
    released = _by_name(m.response_fields, "released_at")
    assert (released.type, released.raw_type) == ("str (date-time)", "string/date-time")


def test_old_types_and_nesting(docs):
    m = docs["admin"].methods["list_organizations"]
    assert m.current_signature() == "(*, status: List = None, org_type: List = None)"
    adv = _by_name(m.response_fields, "advanced_settings")
    assert (adv.type, adv.raw_type) == ("dict", "dict::")
    assert [(c.name, c.type) for c in adv.children] == [("dedicated_dj_pool_enabled", "bool")]
    assert _by_name(m.response_fields, "tableau_refresh_history").type == "List"


def test_old_required_args_and_inline_child(docs):
    m = docs["scripts"].methods["post_containers"]
    assert m.current_signature().startswith(
        "(required_resources: dict, docker_image_name: str, *, name: str = None, parent_id: int = None,"
    )
    params = _by_name(m.params, "params")
    assert (params.type, params.optional) == ("List[dict]", True)
    # "... accepts in the arguments field. - name : string" is the first child
    assert params.description.endswith("in the arguments field.")
    first = params.children[0]
    assert (first.name, first.type, first.description) == (
        "name", "str", "The variable’s name as used within your code.",
    )
    assert _names(params.children)[1:3] == ["label", "description"]
    disk = _by_name(_by_name(m.params, "required_resources").children, "disk_space")
    assert disk.type == "float (float)"


def test_old_raw_dash_lists(docs):
    m = docs["imports"].methods["get"]
    syncs = _by_name(m.response_fields, "syncs")
    assert _names(syncs.children)[:3] == ["id", "source", "destination"]
    source = _by_name(syncs.children, "source")
    table = _by_name(source.children, "database_table")
    assert _names(table.children) == ["schema", "table", "use_without_schema"]


def test_old_deprecation_warning(docs):
    m = docs["tables"].methods["get_enhancements_cass_ncoa"]
    assert m.summary == "View the status of a CASS / NCOA table enhancement"
    assert m.warning == (
        "Warning: The tables/:source_table_id/enhancements/cass-ncoa/:id endpoint is "
        "deprecated and will be removed after January 1, 2021."
    )
    assert m.deprecation == m.warning and m.is_deprecated()
    assert docs["tables"].methods["post_refresh"].deprecation.endswith(
        "Please use tables/scan from now on."
    )
    assert not docs["tables"].methods["get"].is_deprecated()


def test_old_block_without_header(docs):
    m = docs["notebooks"].methods["list_update_links"]
    assert m.summary == "Get URLs to update notebook"
    assert m.signature == "(id)"
    assert _names(m.response_fields) == ["update_url", "update_preview_url"]


def test_every_signature_matches_its_params(docs):
    """Each method's documented parameters follow its signature, in order."""
    bad = []
    for res in docs.values():
        for m in res.methods.values():
            if [n for n, _, _ in m.signature_params()] != _names(m.params):
                bad.append(f"{res.name}.{m.name}")
    assert not bad, bad
    assert sum(len(r.methods) for r in docs.values()) > 750


def test_parse_reference_dir_keys(docs):
    assert list(docs) == sorted(docs)
    assert "git_repos" in docs and docs["git_repos"].class_name == "Git_Repos"
    assert len(docs) == 37
