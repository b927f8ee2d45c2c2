"""civis-python's APIClient helpers (names to ids, the current user), on the real client and the mock."""
import logging
import warnings
from unittest import mock

import pytest

import civis_dyn
from civis_dyn.tests import create_client_mock

BASE = "https://api.example.test/"


@pytest.fixture
def client(real_spec_path):
    return civis_dyn.APIClient("key", local_api_spec=str(real_spec_path), base_url=BASE)


def test_username_is_asked_once(client, requests_mock):
    """civis-python: ``client.username`` is ``users.get_me().username``, cached per client."""
    me = requests_mock.get(f"{BASE}users/me", json={"id": 1, "username": "ada"})
    assert client.username == "ada" and client.username == "ada" and me.call_count == 1


def test_feature_flags_warns_at_the_callers_line(client, requests_mock):
    """civis-python: ``feature_flags`` is the tuple of flags that are on, deprecated with a FutureWarning."""
    requests_mock.get(f"{BASE}users/me", json={"featureFlags": {"foo": True, "bar": False}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flags = client.feature_flags
    assert flags == ("foo",)
    assert caught[0].category is FutureWarning and caught[0].filename == __file__


def test_get_database_id_looks_up_names_and_passes_ids(client, requests_mock):
    """civis-python: ``get_database_id`` maps a name to an id, passes an int, raises ValueError, caches."""
    dbs = requests_mock.get(f"{BASE}databases/", json=[{"id": 7, "name": "redshift"}])
    assert client.get_database_id("redshift") == 7 and client.get_database_id("redshift") == 7
    assert dbs.call_count == 1 and client.get_database_id(3) == 3
    with pytest.raises(ValueError, match="Database nope not found."):
        client.get_database_id("nope")


def test_get_table_id_splits_schema_and_table(client, requests_mock):
    """civis-python: ``get_table_id('"s.x".t', db)`` lists tables by database id, schema and name."""
    requests_mock.get(f"{BASE}databases/", json=[{"id": 7, "name": "redshift"}])
    tables = requests_mock.get(f"{BASE}tables/", json=[{"id": 55, "name": "t"}])
    assert client.get_table_id('"s.x".t', "redshift") == 55
    assert tables.last_request.qs == {"database_id": ["7"], "schema": ["s.x"], "name": ["t"]}
    with pytest.raises(ValueError, match="Cannot parse schema and table"):
        client.get_table_id("a.b.c", 7)


def test_default_database_credential_id(client, requests_mock):
    """civis-python: the first of ``credentials.list(default=True, type="Database")``, or None."""
    creds = requests_mock.get(f"{BASE}credentials/", json=[{"id": 9}, {"id": 10}])
    assert client.default_database_credential_id == 9
    assert creds.last_request.qs["default"] == ["true"] and creds.last_request.qs["type"] == ["database"]
    with pytest.warns(FutureWarning, match="default_credential"):
        assert client.default_credential == 9


def test_get_database_credential_id_is_deprecated(client, requests_mock):
    """civis-python: matches username and remote host name or id; deprecated."""
    requests_mock.get(f"{BASE}credentials/", json=[
        {"id": 4, "username": "ada", "remoteHostId": 7, "remoteHostName": "redshift"}])
    with pytest.warns(FutureWarning, match="get_database_credential_id"):
        assert client.get_database_credential_id("ada", "redshift") == 4
        assert client.get_database_credential_id("ada", 7) == 4
        assert client.get_database_credential_id(12, "x") == 12
        with pytest.raises(ValueError, match="Credential ID for bob on redshift not found."):
            client.get_database_credential_id("bob", "redshift")


def test_get_aws_credential_id_narrows_to_my_credentials(client, requests_mock, caplog):
    """civis-python: several credentials of one name are narrowed to the user's; still several: a warning."""
    requests_mock.get(f"{BASE}credentials/", json=[{"id": 1, "name": "s3", "owner": "other"},
                                                  {"id": 2, "name": "s3", "owner": "ada"},
                                                  {"id": 3, "name": "s3", "owner": "ada"}])
    requests_mock.get(f"{BASE}users/me", json={"username": "ada"})
    with caplog.at_level(logging.WARNING):
        assert client.get_aws_credential_id("s3") == 2
    assert "Found 2 AWS credentials" in caplog.text
    assert client.get_aws_credential_id("s3", owner="other") == 1
    with pytest.raises(ValueError, match="AWS credential ID for s3 owned by nobody cannot be found"):
        client.get_aws_credential_id("s3", owner="nobody")


def test_get_storage_host_id_uses_a_replaced_list_method(client):
    """civis-python's own test: ``client.storage_hosts.list = Mock(...)`` feeds ``get_storage_host_id``."""
    client.storage_hosts.list = mock.Mock(return_value=[civis_dyn.Response({"id": 1234, "name": "test"})])
    assert client.get_storage_host_id("test") == 1234 and client.get_storage_host_id(4732) == 4732
    with pytest.raises(ValueError, match="Storage Host invalidname not found"):
        client.get_storage_host_id("invalidname")


def test_helpers_on_the_mock_are_settable_mocks():
    """civis-python's autospec'd mock: helpers exist, are settable, and the mock is an APIClient."""
    client = create_client_mock()
    assert isinstance(client, civis_dyn.APIClient)
    client.username = "ada"
    client.get_database_id.return_value = 7
    client.default_database_credential_id = 9
    assert (client.username, client.get_database_id("x"), client.default_database_credential_id) \
        == ("ada", 7, 9)
    with pytest.raises(TypeError):
        client.get_table_id("only-one-argument-given", "db", "extra")
