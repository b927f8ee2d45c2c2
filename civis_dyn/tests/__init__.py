"""civis-python's ``civis.tests``: an alias of :mod:`civis_dyn.testing`'s client mocks.

>>> from civis_dyn.tests import create_client_mock, create_client_mock_for_container_tests
"""

from ..testing._mock import create_client_mock, create_client_mock_for_container_tests

__all__ = ["create_client_mock", "create_client_mock_for_container_tests"]
