"""Exceptions constructible and readable the civis-python way."""
import pickle

import requests

from civis_dyn import CivisAPIError, CivisJobFailure


def _response(status, body, reason="Bad", method="GET", url="https://api.example.test/jobs/1?x=1"):
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.reason = reason
    response.request = requests.Request(method, url).prepare()
    return response


def test_civis_api_error_from_a_requests_response():
    """civis-python: ``CivisAPIError(response)`` reads status, ``errorDescription``, verb and path."""
    error = CivisAPIError(_response(404, b'{"errorDescription": "Not found", "code": 404}'))
    assert error.status_code == 404 and error.error_message == "Not found"
    assert str(error) == "(404) Not found (GET /jobs/1?x=1)"
    assert error.response is error._response


def test_civis_api_error_messages_for_odd_bodies():
    """civis-python: a non-JSON body, an empty body and a body without a description have fixed messages."""
    assert CivisAPIError(_response(500, b"foobar")).error_message == "No Response Content from Civis API"
    assert CivisAPIError(_response(502, b"", reason="Bad Gateway")).error_message == "Bad Gateway"
    assert CivisAPIError(_response(400, b"{}")).error_message == "No Error Message Available"


def test_civis_api_error_our_way_still_works():
    """civis_dyn's own form, ``CivisAPIError(status, message, response, method, path)``, is unchanged."""
    error = CivisAPIError(409, "Conflict", None, "POST", "/jobs")
    assert str(error) == "(409) Conflict (POST /jobs)"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_civis_job_failure_reads_as_civis_python():
    """civis-python: ``str(CivisJobFailure("msg"))`` is ``msg``; with ids ``(From job J / run R) msg``."""
    assert str(CivisJobFailure("msg")) == "msg"
    assert str(CivisJobFailure("boom", None, 3)) == "(From job 3) boom"
    error = CivisJobFailure("boom", None, 3, 4)
    assert str(error) == error.error_message == "(From job 3 / run 4) boom"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
