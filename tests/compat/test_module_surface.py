"""The module paths civis-python scripts import resolve under ``import civis_dyn as civis``."""
import importlib
import logging

import pytest

import civis_dyn as civis


def test_civis_base_exceptions_and_states():
    """civis-python: ``from civis.base import CivisAPIError, CivisJobFailure, EmptyResultError``."""
    from civis_dyn.base import (DONE, FAILED, FINISHED, STATE_TRANS, CivisAPIError,
                                CivisAPIKeyError, CivisImportError, CivisJobFailure,
                                EmptyResultError, get_base_url)
    assert CivisAPIError is civis.CivisAPIError and CivisJobFailure is civis.CivisJobFailure
    assert issubclass(CivisAPIKeyError, Exception)
    assert CivisImportError is civis.io.CivisImportError  # what civis_dyn.io raises
    assert EmptyResultError is civis.io.EmptyResultError
    assert FINISHED == ["success", "succeeded"] and FAILED == ["failed"]
    assert set(DONE) == {"success", "succeeded", "failed", "cancelled"}
    assert STATE_TRANS["running"] == "RUNNING" and STATE_TRANS["succeeded"] == "FINISHED"
    assert get_base_url().endswith("/")


def test_civis_response_module():
    """civis-python: ``from civis.response import Response, PaginatedResponse, find, find_one``."""
    from civis_dyn.response import (CivisImmutableResponseError, ListResponse, PaginatedResponse,
                                    Response, find, find_one)
    assert Response is civis.Response and ListResponse is civis.ListResponse
    assert PaginatedResponse is civis.PaginatedResponse
    assert find is civis.find and find_one is civis.find_one
    assert CivisImmutableResponseError is civis.CivisImmutableResponseError


def test_submodules_are_attributes_without_an_import():
    """civis-python: ``import civis; civis.utils.run_job(...)``, ``civis.futures.CivisFuture``."""
    assert civis.futures.CivisFuture is civis.CivisFuture
    assert civis.response.Response is civis.Response
    assert civis.base.CivisAPIError is civis.CivisAPIError
    assert callable(civis.loggers.civis_logger) and civis.civis_logger is civis.loggers.civis_logger
    assert {"futures", "utils", "civis_logger"} <= set(civis.__all__)


def test_civis_utils_re_exports_the_run_helpers():
    """civis-python: ``civis.utils.run_job``, ``run_template`` and ``job_logs``."""
    utils = importlib.import_module("civis_dyn.utils")
    assert utils.run_job is civis.futures.run_job
    for name in ("run_template", "job_logs"):
        if not hasattr(civis.futures, name):  # lands with the runs work (issue 15, item 5)
            with pytest.raises(AttributeError, match=name):
                getattr(utils, name)
            continue
        assert getattr(utils, name) is getattr(civis.futures, name)
    assert set(utils.__all__) == {"run_job", "run_template", "job_logs"}


def test_civis_tests_alias_of_the_testing_mocks():
    """civis-python: ``from civis.tests import create_client_mock`` (and ``civis.tests.mocks``)."""
    from civis_dyn.tests import create_client_mock, create_client_mock_for_container_tests
    from civis_dyn.tests import mocks
    from civis_dyn.testing import create_client_mock as testing_mock
    assert create_client_mock is testing_mock is mocks.create_client_mock
    assert mocks.create_client_mock_for_container_tests is create_client_mock_for_container_tests


def _logger(**kwargs):
    import uuid

    logger = civis.civis_logger(name=f"compat-{uuid.uuid4()}", **kwargs)
    logger.propagate = True
    return logger


def test_civis_logger_splits_stdout_and_stderr(capsys):
    """civis-python: ``civis_logger`` sends INFO and below to stdout, the rest to stderr."""
    log = _logger()
    log.debug("hidden")
    log.info("to stdout")
    log.warning("to stderr")
    out = capsys.readouterr()
    assert out.out == "to stdout\n" and out.err == "to stderr\n"
    assert log.level == logging.INFO


def test_civis_logger_honours_civis_log_level(monkeypatch, capsys):
    """civis-python: the default level comes from env ``CIVIS_LOG_LEVEL``."""
    monkeypatch.setenv("CIVIS_LOG_LEVEL", "DEBUG")
    log = _logger()
    log.debug("debug line")
    assert log.level == logging.DEBUG and capsys.readouterr().out == "debug line\n"
    monkeypatch.setenv("CIVIS_LOG_LEVEL", "WARNING")
    assert _logger().level == logging.WARNING
    assert _logger(level=logging.ERROR, fmt=logging.Formatter("%(levelname)s")).level == logging.ERROR
