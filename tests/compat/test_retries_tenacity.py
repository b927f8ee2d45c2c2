"""``APIClient(retries=tenacity.Retrying(...))``, as civis-python 2.10 takes it (duck-typed)."""
import pytest

import civis_dyn
from civis_dyn._tenacity import TenacityRetryPolicy
from civis_dyn._config import ClientConfig
from civis_dyn._pipeline import RetryPolicy, SyncDriver

BASE = "https://api.example.test/"


class FakeRetrying:
    """The shape of tenacity.Retrying that civis_dyn reads: stop, wait, copy."""

    def __init__(self, attempts, wait=0.0):
        self.attempts, self.waited, self.wait_value = attempts, [], wait

    def stop(self, state):
        return state.attempt_number >= self.attempts

    def wait(self, state):
        self.waited.append(state.attempt_number)
        return self.wait_value

    def copy(self):
        return self


def test_a_retrying_shaped_object_sets_stop_and_wait(requests_mock, clock):
    """civis-python: the Retrying's ``stop`` and ``wait`` decide; civis decides which statuses."""
    retrying = FakeRetrying(attempts=3, wait=0.5)
    policy = RetryPolicy.coerce(retrying).replace(clock=clock, sleep=clock.sleep)
    transport = SyncDriver.from_config(ClientConfig.resolve(api_key="key", base_url=BASE,
                                                            retries=policy))
    assert isinstance(transport.retry_policy, TenacityRetryPolicy)
    route = requests_mock.get(f"{BASE}things/1", [{"status_code": 503}] * 5)
    with pytest.raises(civis_dyn.CivisAPIError):
        transport.request("GET", "things/1")
    assert route.call_count == 3 and clock.sleeps == [0.5, 0.5]
    post = requests_mock.post(f"{BASE}things", status_code=502)
    with pytest.raises(civis_dyn.CivisAPIError):
        transport.request("POST", "things", json_body={})
    assert post.call_count == 1  # 502 is never retried for POST


def test_real_tenacity_retrying(requests_mock, clock, mini_spec_path):
    """civis-python 2.10: ``retries=tenacity.Retrying(stop=..., wait=...)`` (skips without tenacity)."""
    tenacity = pytest.importorskip("tenacity")
    retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(4),
                                 wait=tenacity.wait_fixed(2), reraise=True)
    policy = RetryPolicy.coerce(retrying)
    assert isinstance(policy, TenacityRetryPolicy) and policy.delay(1) == 2.0
    assert policy.allows(3, 0.0, 2.0) and not policy.allows(4, 0.0, 2.0)
    client = civis_dyn.APIClient("key", local_api_spec=str(mini_spec_path), base_url=BASE,
                                 retries=retrying)
    assert isinstance(client.meta.driver.retry_policy, TenacityRetryPolicy)
    stop_by_time = tenacity.Retrying(stop=tenacity.stop_after_delay(10))
    assert not RetryPolicy.coerce(stop_by_time).allows(2, 11.0, 0.0)
