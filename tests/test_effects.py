"""civis_dyn._effects: one generator of effects, run blocking or awaited, alike."""

import asyncio

import pytest

from civis_dyn._effects import (Call, Collect, Emit, Sleep, iterate_async, iterate_blocking,
                                run_async, run_blocking)


def _steps(log):
    value = yield Call(lambda x, y=0: x + y, 1, y=2)
    log.append(value)
    yield Sleep(0.5)
    try:
        yield Call(lambda: 1 / 0)
    except ZeroDivisionError as exc:  # an effect's error is thrown in at its yield
        log.append(type(exc).__name__)
    items = yield Collect(lambda: iter([1, 2]))
    return value, items


def test_the_same_steps_give_the_same_results_blocking_and_awaited():
    slept, log_blocking, log_async = [], [], []
    assert run_blocking(_steps(log_blocking), sleep=slept.append) == (3, [1, 2])

    async def fake_sleep(seconds):
        slept.append(seconds)

    assert asyncio.run(run_async(_steps(log_async), sleep=fake_sleep)) == (3, [1, 2])
    assert log_blocking == log_async == [3, "ZeroDivisionError"]
    assert slept == [0.5, 0.5]


def test_async_effects_are_awaited_and_async_iterators_collected():
    async def double(x):
        return 2 * x

    async def pages():
        for item in (1, 2, 3):
            yield item

    def steps():
        return ((yield Call(double, 4)), (yield Collect(pages)))

    assert asyncio.run(run_async(steps())) == (8, [1, 2, 3])


def test_an_uncaught_error_propagates_from_both_drivers():
    def steps():
        yield Call(lambda: {}["missing"])

    with pytest.raises(KeyError):
        run_blocking(steps())
    with pytest.raises(KeyError):
        asyncio.run(run_async(steps()))


def test_emitted_values_are_iterated_and_plain_runs_refuse_them():
    def steps():
        for i in range(3):
            yield Emit(i)
            yield Sleep(0)

    assert list(iterate_blocking(steps(), sleep=lambda s: None)) == [0, 1, 2]

    async def collect():
        return [i async for i in iterate_async(steps())]

    assert asyncio.run(collect()) == [0, 1, 2]
    with pytest.raises(TypeError, match="iterate_blocking"):
        run_blocking(steps())
    with pytest.raises(TypeError, match="iterate_async"):
        asyncio.run(run_async(steps()))


def test_cancelling_the_awaiting_task_closes_the_steps():
    closed = []

    def steps():
        try:
            yield Sleep(60)
        finally:
            closed.append(True)

    async def main():
        task = asyncio.ensure_future(run_async(steps()))
        await asyncio.sleep(0)  # the task starts sleeping
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed == [True]
