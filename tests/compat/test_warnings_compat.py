"""Deprecation warnings name the user's line (civis-python uses the right stacklevel)."""
import inspect
import warnings

import civis_dyn

BASE = "https://api.example.test/"




def test_deprecated_method_warns_at_the_calling_line(real_spec_path, requests_mock):
    """civis-python: calling a deprecated method warns with the caller's file and line."""
    requests_mock.get(f"{BASE}users/me", json={"id": 1, "username": "ada"})
    client = civis_dyn.APIClient("key", local_api_spec=str(real_spec_path), base_url=BASE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        client.users.list_me()
    assert [w.category for w in caught] == [FutureWarning]
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)


def test_deprecated_helper_warns_at_the_calling_line(real_spec_path, requests_mock):
    """civis-python: ``client.default_credential`` (deprecated) warns at the user's line."""
    requests_mock.get(f"{BASE}credentials/", json=[])
    client = civis_dyn.APIClient("key", local_api_spec=str(real_spec_path), base_url=BASE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        assert client.default_credential is None
    assert caught and all((w.filename, w.lineno) == (__file__, line) for w in caught)
