"""Fixtures of the fault / bad-input / secrets matrix, and its one-line summary.

Every test here counts what it checked in the session-wide :class:`Tally`
(``tally.fault()``, ``tally.bad_input()``, ``tally.leak_check()``); at the end
of the session one line reports the totals, e.g.::

    civis_dyn faults matrix: 96 fault cases, 2104 bad inputs, 731 leak checks (212 tests passed, 0 failed)
"""

from urllib.parse import quote

import pytest

API_KEY = "sk-CANARY-0f9e8d7c6b5a-faults"   # distinctive: any occurrence is a leak


class Tally:
    """What the matrix checked, counted across the session."""

    def __init__(self):
        self.faults = 0
        self.bad_inputs = 0
        self.leak_checks = 0
        self.passed = 0
        self.failed = 0

    def fault(self, n=1):
        """Count ``n`` fault cases (one injected fault and its asserted outcome each)."""
        self.faults += n

    def bad_input(self, n=1):
        """Count ``n`` bad inputs thrown at the client."""
        self.bad_inputs += n

    def leak_check(self, n=1):
        """Count ``n`` places searched for the API key."""
        self.leak_checks += n

    def line(self):
        return (f"civis_dyn faults matrix: {self.faults} fault cases, {self.bad_inputs} bad inputs, "
                f"{self.leak_checks} leak checks ({self.passed} tests passed, {self.failed} failed)")


TALLY = Tally()


def _in_this_package(nodeid):
    return "tests/faults/" in nodeid.replace("\\", "/")


def pytest_runtest_logreport(report):
    if not _in_this_package(report.nodeid):
        return
    if report.when == "call" and report.passed:
        TALLY.passed += 1
    elif report.failed:
        TALLY.failed += 1


def pytest_terminal_summary(terminalreporter):
    if TALLY.passed or TALLY.failed:
        terminalreporter.write_line(TALLY.line())


@pytest.fixture
def tally():
    """The session's :class:`Tally`."""
    return TALLY


@pytest.fixture
def api_key():
    """The API key every test client uses; it must never show up anywhere."""
    return API_KEY


def key_forms(key):
    """Every spelling of the key worth searching for."""
    forms = {key, quote(key, safe=""), key.encode().hex()}
    return [f for f in forms if f]


@pytest.fixture
def assert_no_key(api_key):
    """``assert_no_key(value, where)``: fail when ``value`` (text or bytes) holds the key.

    Each call counts as one leak check.
    """
    text_forms = key_forms(api_key)
    byte_forms = [f.encode() for f in text_forms]

    def check(value, where):
        TALLY.leak_check()
        if isinstance(value, (bytes, bytearray)):
            assert not any(f in value for f in byte_forms), f"API key leaked in {where}"
        else:
            text = str(value)
            assert not any(f in text for f in text_forms), f"API key leaked in {where}: {text[:300]!r}"

    return check


@pytest.fixture
def make_client(mini_spec_path, clock, api_key):
    """Factory: an APIClient on the mini schema whose retries use the fake clock.

    ``make_client(base_url, read_timeout=5.0, **policy)``; ``policy`` goes to
    :class:`civis_dyn.RetryPolicy` (default: 4 attempts, 1 s backoff base).
    """
    import civis_dyn

    def make(base_url, read_timeout=5.0, key=api_key, **policy):
        policy.setdefault("max_attempts", 4)
        retries = civis_dyn.RetryPolicy(**policy, sleep=clock.sleep, clock=clock)
        return civis_dyn.APIClient(key, local_api_spec=str(mini_spec_path), base_url=base_url,
                                   retries=retries, timeout=(2.0, read_timeout))

    return make
