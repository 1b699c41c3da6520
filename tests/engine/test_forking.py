"""A forked call returns, raises and warns as the call in place would; a child that dies costs time, not the result."""

import os
import warnings

import numpy as np
import pytest

import uncertain_cost.kernel_cache  # noqa: F401  (asks numba for a fork-safe threading layer, as a run does)
from uncertain_cost import forking
from uncertain_cost.forking import ForkedCall, SharedFlag, fork_allowed


class _Warned(UserWarning):
    pass


def _pid_and_sum(values):
    return os.getpid(), float(np.sum(values))


def _raises(message):
    raise ValueError(message)


def _warns_then_returns(value):
    warnings.warn("first", _Warned, stacklevel=1)
    warnings.warn("second", _Warned, stacklevel=1)
    return value


def _dies_in_child(parent):
    if os.getpid() != parent:
        os._exit(3)
    return "computed in the parent"


def _unpicklable(parent):
    return (lambda: None) if os.getpid() != parent else "computed in the parent"


@pytest.fixture
def needs_fork():
    if not (fork_allowed() and forking._threading_layer_fork_safe()):
        pytest.skip("forking not allowed here (one core, not Linux, or GNU OpenMP in use)")


def test_the_call_runs_in_a_child_and_its_value_comes_back(needs_fork):
    call = ForkedCall(_pid_and_sum, np.arange(10.0)).start()
    assert call.forked
    pid, total = call.result()
    assert pid != os.getpid() and total == 45.0 and call.from_child
    assert not call.forked


def test_without_fork_the_call_runs_in_place(monkeypatch):
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    assert not fork_allowed()
    call = ForkedCall(_pid_and_sum, np.ones(3)).start()
    assert not call.forked
    assert call.result() == (os.getpid(), 3.0)


def test_an_exception_of_the_child_is_raised_in_the_caller(needs_fork):
    call = ForkedCall(_raises, "bad input in the child").start()
    with pytest.raises(ValueError, match="bad input in the child"):
        call.result()


def test_warnings_of_the_child_are_emitted_in_the_caller_in_order(needs_fork):
    call = ForkedCall(_warns_then_returns, 7).start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert call.result() == 7
    assert [str(w.message) for w in caught if w.category is _Warned] == ["first", "second"]


def test_a_child_that_dies_or_cannot_send_its_value_leaves_the_work_to_the_caller(needs_fork):
    for func in (_dies_in_child, _unpicklable):
        call = ForkedCall(func, os.getpid()).start()
        assert call.forked
        assert call.result() == "computed in the parent" and not call.from_child


def test_prefer_fork_safe_threading_respects_the_users_choice(monkeypatch):
    import numba

    monkeypatch.setattr(numba.config, "THREADING_LAYER", "default")
    monkeypatch.setenv("NUMBA_THREADING_LAYER", "omp")
    forking.prefer_fork_safe_threading()
    assert numba.config.THREADING_LAYER == "default"
    monkeypatch.delenv("NUMBA_THREADING_LAYER")
    forking.prefer_fork_safe_threading()
    assert numba.config.THREADING_LAYER == "forksafe"


def test_a_parallel_numba_kernel_runs_in_a_forked_child(needs_fork):
    from uncertain_cost.sampling.streams import uniforms

    want = uniforms(12345, 0, 50_000)
    call = ForkedCall(uniforms, 12345, 0, 50_000).start()
    assert call.forked
    np.testing.assert_array_equal(call.result(), want)


def _wait_for(flag):
    import time

    deadline = time.monotonic() + 30.0
    while not flag.is_set():
        if time.monotonic() > deadline:
            return "timed out"
        time.sleep(0.001)
    return "seen"


def test_a_flag_set_by_the_caller_is_seen_by_the_child(needs_fork):
    flag = SharedFlag()
    assert not flag.is_set()
    call = ForkedCall(_wait_for, flag).start()
    flag.set()
    assert call.result() == "seen" and call.from_child


def _sleeps():
    import time

    time.sleep(60)
    return "woke"


def test_cancel_kills_and_reaps_the_child(needs_fork):
    call = ForkedCall(_sleeps).start()
    pid = call._pid
    call.cancel()
    assert not call.forked
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more


def _slow_square_with_pid(x):
    import time

    time.sleep(0.05)  # long enough for the child to start and take items, even on a busy machine
    return x * x, os.getpid()


def test_shared_map_keeps_the_order_and_shares_the_items_with_a_child(needs_fork):
    values = forking.shared_map(_slow_square_with_pid, range(20))
    assert [v for v, _ in values] == [x * x for x in range(20)]
    pids = {pid for _, pid in values}
    assert os.getpid() in pids and len(pids) == 2  # both processes took items from the queue


def _square_but_the_child_dies(item):
    x, parent = item
    if os.getpid() != parent:
        os._exit(3)
    return x * x


def test_shared_map_computes_here_what_a_dead_child_took(needs_fork):
    parent = os.getpid()
    assert forking.shared_map(_square_but_the_child_dies, [(x, parent) for x in range(10)]) == [
        x * x for x in range(10)]


def test_shared_map_without_fork_computes_everything_here(monkeypatch):
    monkeypatch.setattr(forking, "fork_allowed", lambda: False)
    values = forking.shared_map(_slow_square_with_pid, range(5))
    assert values == [(x * x, os.getpid()) for x in range(5)]


def _fails_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


def test_shared_map_raises_what_func_raised(needs_fork):
    with pytest.raises(ValueError, match="three"):
        forking.shared_map(_fails_on_three, range(8))
