"""The naming rules that reproduce the published reference."""
import pytest

from civis_dyn.spec._naming import camel_to_snake, method_name, path_shape, resource_name


@pytest.mark.parametrize("path, expected", [
    ("/jobs/{id}", "jobs"),
    ("/git_repos/", "git_repos"),
    ("/Git-Repos/{id}", "git_repos"),
    ("/json_values/{id}", "json_values"),
])
def test_resource_is_first_segment_lower_cased_with_underscores(path, expected):
    assert resource_name(path) == expected


@pytest.mark.parametrize("verb, path, expected", [
    ("GET", "/jobs/", "list"),                                   # literal end -> list
    ("GET", "/jobs/{id}", "get"),                                # parameter end -> get
    ("GET", "/jobs/{id}/runs", "list_runs"),
    ("GET", "/jobs/{id}/runs/{run_id}", "get_runs"),
    ("GET", "/jobs/{id}/runs/{run_id}/logs", "list_runs_logs"),
    ("POST", "/jobs/", "post"),                                  # no segments: bare verb
    ("DELETE", "/jobs/{id}/shares/users/{user_id}", "delete_shares_users"),
    ("GET", "/aliases/{object_type}/{alias}", "get_object_type"),  # {a}/{b}: name of the first
    ("POST", "/tables/{source_table_id}/enhancements/cass-ncoa", "post_enhancements_cass_ncoa"),
    ("PUT", "/workflows/{id}/shares/groups", "put_shares_groups"),
    ("PATCH", "/users/me/favorites/{id}/ranking/top", "patch_me_favorites_ranking_top"),
])
def test_method_names(verb, path, expected):
    assert method_name(verb, path) == expected


@pytest.mark.parametrize("wire, snake", [
    ("fromTemplateId", "from_template_id"),
    ("provideAPIKey", "provide_api_key"),
    ("id", "id"),
    ("page_num", "page_num"),
    ("createdAt", "created_at"),
    ("scheduledDaysOfMonth", "scheduled_days_of_month"),
])
def test_camel_to_snake(wire, snake):
    assert camel_to_snake(wire) == snake


def test_path_shape_blanks_parameter_names_and_trailing_slash():
    assert path_shape("/jobs/{id}/children") == "/jobs/{}/children"
    assert path_shape("/credentials/types/") == "/credentials/types"
