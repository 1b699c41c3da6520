"""The garbage collector around a run (uncertain_cost.heap)."""

from __future__ import annotations

import gc
import io
import subprocess
import sys

import pytest

from uncertain_cost.heap import exit_without_collecting, older_objects_frozen


class _Cycle:
    def __init__(self):
        self.me = self


def test_objects_alive_on_entry_are_frozen_until_the_outermost_exit():
    assert gc.get_freeze_count() == 0
    with older_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with older_objects_frozen():  # nested: no second freeze, no early unfreeze
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_the_youngest_generation_is_collected_less_often_during_the_run_only():
    from uncertain_cost.heap import RUN_YOUNG_THRESHOLD

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with older_objects_frozen():
            assert gc.get_threshold() == (RUN_YOUNG_THRESHOLD, 10, 10)
            with older_objects_frozen():
                assert gc.get_threshold() == (RUN_YOUNG_THRESHOLD, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(50_000, 10, 10)  # a caller's higher threshold is kept
        with older_objects_frozen():
            assert gc.get_threshold() == (50_000, 10, 10)
        gc.set_threshold(0, 10, 10)  # collection turned off stays off
        with older_objects_frozen():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_cycle_made_during_the_run_is_still_collected():
    import weakref

    with older_objects_frozen():
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        del cycle
        for _ in range(3 * 10_000):  # enough new objects for a young collection at the run's threshold
            _Cycle()
        assert alive() is None


def test_a_cycle_made_before_the_run_is_collected_after_it():
    import weakref

    cycle = _Cycle()
    alive = weakref.ref(cycle)
    with older_objects_frozen():
        del cycle
        gc.collect()
        assert alive() is not None  # frozen: left alone during the run
    gc.collect()
    assert alive() is None  # unfrozen: collected as before


def test_unfrozen_after_an_error():
    with pytest.raises(RuntimeError), older_objects_frozen():
        raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0


def test_exit_without_collecting_flushes_and_exits_with_the_code():
    class Stream(io.StringIO):
        flushed = False

        def flush(self):
            self.flushed = True

    stream = Stream()
    with pytest.raises(SystemExit) as info:
        exit_without_collecting(3, streams=(stream,))
    assert info.value.code == 3 and stream.flushed
    gc.unfreeze()  # this test process goes on


def test_a_broken_pipe_at_exit_keeps_the_code_and_prints_no_traceback():
    class Gone(io.StringIO):
        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(SystemExit) as info:
        exit_without_collecting(0, streams=(Gone(),))
    assert info.value.code == 0
    gc.unfreeze()


def test_the_program_exit_code_and_output_survive_the_quick_exit():
    done = subprocess.run([sys.executable, "-m", "uncertain_cost", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("uncertain_cost ")
    bad = subprocess.run([sys.executable, "-m", "uncertain_cost", "validate", "missing.toml"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
