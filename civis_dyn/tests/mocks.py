"""civis-python's ``civis.tests.mocks``: the same two functions as :mod:`civis_dyn.tests`."""

from ..testing._mock import create_client_mock, create_client_mock_for_container_tests

__all__ = ["create_client_mock", "create_client_mock_for_container_tests"]
