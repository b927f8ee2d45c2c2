"""Resource methods replaced per client instance, as tests written for civis-python do."""
from unittest import mock

import pytest

import civis_dyn

BASE = "https://api.example.test/"


@pytest.fixture
def make_client(mini_spec_path):
    return lambda: civis_dyn.APIClient("key", local_api_spec=str(mini_spec_path), base_url=BASE)


def test_assigning_a_method_affects_only_that_client(make_client):
    """civis-python: ``client.things.list = Mock()`` replaces the method on that client."""
    first, second = make_client(), make_client()
    first.things.list = mock.Mock(return_value=["stub"])
    assert first.things.list() == ["stub"]
    assert isinstance(second.things.list, type(first.things.get))  # still the API method
    assert not isinstance(second.things.list, mock.Mock)


def test_patch_object_restores_the_method(make_client, requests_mock):
    """civis-python: ``mock.patch.object(client.things, "get")`` patches and then restores."""
    requests_mock.get(f"{BASE}things/1", json={"id": 1})
    client = make_client()
    with mock.patch.object(client.things, "get", return_value=civis_dyn.Response({"id": 9})) as get:
        assert client.things.get(1).id == 9
        get.assert_called_once_with(1)
    assert client.things.get(1).id == 1


def test_assigning_a_whole_resource(make_client):
    """civis-python's own tests: ``setattr(client, "users", FakeUsers())``."""
    client = make_client()
    fake = mock.Mock()
    client.things = fake
    assert client.things is fake
