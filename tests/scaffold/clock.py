"""The one fake clock of the tests."""


class FakeClock:
    """An injected clock and sleep: time moves only when a test sleeps or advances it.

    Call it for the time (``clock()``); pass ``clock.sleep`` where code sleeps:
    sleeping returns at once, advances the time and is recorded in ``sleeps``.

    Parameters
    ----------
    now : float
        The time at the start, in seconds.
    """

    def __init__(self, now=1000.0):
        self.now = float(now)
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        """Record a wait and advance by it."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds):
        """Move the time on by ``seconds`` without recording a wait."""
        self.now += seconds
