"""The pool of concurrent runs: slots, the bounded queue, its time limit, and cancellation."""

from __future__ import annotations

import asyncio

import pytest

from servers.sandbox.pool import Busy, RunPool


async def hold(pool: RunPool, release: asyncio.Event, entered: asyncio.Event | None = None) -> str:
    async with pool.slot():
        if entered:
            entered.set()
        await release.wait()
    return "done"


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_runs_up_to_the_limit_start_at_once() -> None:
    pool, release = RunPool(2, 0, 1.0), asyncio.Event()
    first, second = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(hold(pool, release, first)), asyncio.create_task(hold(pool, release, second))]
    async with asyncio.timeout(10):
        await first.wait()
        await second.wait()
    assert (pool.active, pool.queued) == (2, 0)
    release.set()
    assert await asyncio.gather(*tasks) == ["done", "done"]
    assert (pool.active, pool.queued) == (0, 0)


async def test_a_run_beyond_the_limit_waits_for_a_free_slot() -> None:
    changes: list[tuple[int, int]] = []
    pool = RunPool(1, 4, 30.0, on_change=lambda active, queued: changes.append((active, queued)))
    release, entered = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(hold(pool, release, entered))
    await entered.wait()
    second_entered = asyncio.Event()
    waiter = asyncio.create_task(hold(pool, asyncio.Event(), second_entered))
    await settle()
    assert (pool.active, pool.queued) == (1, 1)
    assert not second_entered.is_set()
    release.set()
    async with asyncio.timeout(10):
        await second_entered.wait()
    assert (pool.active, pool.queued) == (1, 0)
    waiter.cancel()
    await asyncio.gather(holder, waiter, return_exceptions=True)
    assert (pool.active, pool.queued) == (0, 0)
    assert (1, 1) in changes and changes[-1] == (0, 0)


async def test_a_full_queue_is_busy_at_once() -> None:
    pool, release, entered = RunPool(1, 1, 30.0), asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(hold(pool, release, entered))
    await entered.wait()
    queued = asyncio.create_task(hold(pool, release))
    await settle()
    with pytest.raises(Busy, match=r"1 runs in progress and 1 waiting \(at most 1\)"):
        async with pool.slot():
            pass
    release.set()
    assert await asyncio.gather(holder, queued) == ["done", "done"]


async def test_no_queue_means_busy_whenever_every_slot_is_taken() -> None:
    pool, release, entered = RunPool(1, 0, 30.0), asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(hold(pool, release, entered))
    await entered.wait()
    with pytest.raises(Busy):
        async with pool.slot():
            pass
    release.set()
    await holder


async def test_waiting_longer_than_the_queue_limit_is_busy_and_frees_the_queue_place() -> None:
    pool, release, entered = RunPool(1, 2, 0.2), asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(hold(pool, release, entered))
    await entered.wait()
    with pytest.raises(Busy, match=r"no run slot came free within 0\.2 s"):
        async with pool.slot():
            pass
    assert (pool.active, pool.queued) == (1, 0)
    release.set()
    await holder
    async with pool.slot():  # the pool still works afterwards
        assert pool.active == 1


async def test_a_cancelled_waiter_leaves_no_trace() -> None:
    pool, release, entered = RunPool(1, 2, 30.0), asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(hold(pool, release, entered))
    await entered.wait()
    waiter = asyncio.create_task(hold(pool, asyncio.Event()))
    await settle()
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert pool.queued == 0
    release.set()
    await holder
    assert (pool.active, pool.queued) == (0, 0)
    async with pool.slot():
        assert pool.active == 1


async def test_a_failing_run_releases_its_slot() -> None:
    pool = RunPool(1, 0, 1.0)
    with pytest.raises(RuntimeError):
        async with pool.slot():
            raise RuntimeError("the run failed")
    async with pool.slot():
        assert pool.active == 1


def test_a_pool_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RunPool(0, 1, 1.0)
