"""The pool of concurrent runs: slots, the bounded queue, its time limit, cancellation, and each caller's share."""

from __future__ import annotations

import asyncio

import pytest

from servers.sandbox.pool import Busy, RunPool


async def hold(
    pool: RunPool, release: asyncio.Event, entered: asyncio.Event | None = None, caller: str = "anonymous"
) -> str:
    async with pool.slot(caller):
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


# --- each caller's share (issue 14, finding 7) ---------------------------------------------------


async def test_one_caller_cannot_take_every_slot_nor_the_whole_queue() -> None:
    """Four slow runs of one caller once left another caller's print(1) waiting until it was busy."""
    pool = RunPool(4, 16, 30.0, max_active_per_caller=2, max_queued_per_caller=1)
    release = asyncio.Event()
    hogs = [asyncio.create_task(hold(pool, release, caller="hog")) for _ in range(3)]
    await settle()
    assert (pool.active, pool.queued) == (2, 1)  # two going, one waiting although two slots are free
    with pytest.raises(Busy, match=r"busy for this caller: 2 of its runs in progress and 1 waiting"):
        async with pool.slot("hog"):
            pass
    async with asyncio.timeout(1), pool.slot("someone-else"):
        assert pool.active == 3
    release.set()
    assert await asyncio.gather(*hogs) == ["done"] * 3
    assert (pool.active, pool.queued, pool.shares()) == (0, 0, {})


async def test_a_freed_slot_goes_to_the_longest_waiting_caller_under_its_share() -> None:
    pool = RunPool(2, 4, 30.0, max_active_per_caller=1)
    first, second = asyncio.Event(), asyncio.Event()
    a1 = asyncio.create_task(hold(pool, first, caller="a"))
    b1 = asyncio.create_task(hold(pool, second, caller="b"))
    await settle()
    a2_entered, c1_entered = asyncio.Event(), asyncio.Event()
    a2 = asyncio.create_task(hold(pool, asyncio.Event(), a2_entered, caller="a"))  # waits longest, but a has its run
    await settle()
    c1 = asyncio.create_task(hold(pool, asyncio.Event(), c1_entered, caller="c"))
    await settle()
    assert (pool.active, pool.queued) == (2, 2)
    second.set()  # b's run ends
    async with asyncio.timeout(5):
        await c1_entered.wait()
    assert not a2_entered.is_set()
    first.set()  # a's first run ends: now a's second may go
    async with asyncio.timeout(5):
        await a2_entered.wait()
    assert pool.shares() == {"a": 1, "c": 1}
    for task in (a2, c1):
        task.cancel()
    await asyncio.gather(a1, b1, a2, c1, return_exceptions=True)
    assert (pool.active, pool.queued, pool.shares()) == (0, 0, {})


async def test_a_caller_over_its_share_waits_at_most_the_queue_limit() -> None:
    pool, release = RunPool(2, 4, 0.2, max_active_per_caller=1), asyncio.Event()
    holder = asyncio.create_task(hold(pool, release, caller="hog"))
    await settle()
    with pytest.raises(Busy, match=r"no run slot came free within 0\.2 s"):
        async with pool.slot("hog"):
            pass
    assert (pool.active, pool.queued) == (1, 0)
    release.set()
    await holder


def test_a_share_is_at_most_the_pool() -> None:
    pool = RunPool(2, 3, 1.0, max_active_per_caller=10)
    assert (pool.max_active_per_caller, pool.max_queued_per_caller) == (2, 3)
