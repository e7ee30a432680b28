"""Plain progress lines when stdout is not a terminal (dgen_genseg.pipeline.plain_log)."""

from __future__ import annotations

import io

import pytest

from dgen_genseg.pipeline.plain_log import PlainProgress, duration, wants_plain_lines


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_n_iterations_and_at_the_end_with_elapsed_time_and_eta():
    out, clock = io.StringIO(), Clock()
    with PlainProgress(4, stream=out, clock=clock) as progress:
        task = progress.add_task("training", total=10, completed=0, stats="")
        for i in range(10):
            clock.now += 1.5  # 1.5 s per iteration
            progress.update(task, advance=1, stats=f"seg={0.5 - i / 100:.2f}  val_dice=0.7")
    assert out.getvalue().splitlines() == [
        "iteration 4/10 (40%) seg=0.47 val_dice=0.7 | elapsed 0:00:06, ETA 0:00:09",
        "iteration 8/10 (80%) seg=0.43 val_dice=0.7 | elapsed 0:00:12, ETA 0:00:03",
        "iteration 10/10 (100%) seg=0.41 val_dice=0.7 | elapsed 0:00:15, ETA 0:00:00",
    ]


def test_a_resumed_run_counts_from_its_checkpoint_and_times_only_what_it_ran():
    out, clock = io.StringIO(), Clock()
    progress = PlainProgress(2, stream=out, clock=clock)
    task = progress.add_task("training", total=8, completed=4)
    for _ in range(2):
        clock.now += 10
        progress.update(task, advance=1, stats="")
    assert out.getvalue().splitlines() == ["iteration 6/8 (75%) | elapsed 0:00:20, ETA 0:00:20"]


def test_durations_and_terminal_detection():
    assert duration(3725.2) == "1:02:05" and duration(-1) == "0:00:00"
    assert wants_plain_lines(io.StringIO())

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not wants_plain_lines(Tty())
    with pytest.raises(ValueError):
        PlainProgress(0)
