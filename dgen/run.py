"""Running a registered pipeline in a run directory (fresh, or resumed).

The command line calls :func:`run_pipeline`; so can Python code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dgen.checkpoint import remove_stale_temporaries
from dgen.config import build_config, config_to_dict
from dgen.device import resolve_device
from dgen.errors import ConfigError, ResumeError
from dgen.pipeline import Pipeline, RunContext
from dgen.plugins import registry
from dgen.outdir import check_fresh_run_dir, disk_errors, fresh_start
from dgen.progress import Heartbeat, remove_stale_progress
from dgen.rundir import CONFIG_FILE, METRICS_FILE
from dgen.threads import ThreadShare

__all__ = ["RunResult", "run_pipeline", "default_run_dir", "CONFIG_FILE", "METRICS_FILE"]


@dataclasses.dataclass(frozen=True)
class RunResult:
    """What a run produced: its directory, metrics, and whether it had already finished."""

    run_dir: Path
    metrics: dict[str, Any]
    already_finished: bool = False


def default_run_dir(pipeline: str, values: Mapping[str, Any], root: Path = Path("runs")) -> Path:
    """``runs/<pipeline>[-<task>][-<backbone>]-s<seed>-<timestamp>``."""
    parts = [pipeline] + [str(values[k]) for k in ("task", "backbone") if values.get(k) is not None]
    parts.append(f"s{values.get('seed', 0)}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / "-".join(parts + [stamp])
    n = 1
    while path.exists():
        n += 1
        path = root / "-".join(parts + [f"{stamp}.{n}"])
    return path


def _read_json(path: Path, run_dir: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise ResumeError(
            f"cannot resume {run_dir}: {path} is not valid JSON ({exc}); it was not written by dgen or is truncated."
        ) from exc


def _resumed_config(run_dir: Path, name: str, given: Mapping[str, Any], config_class: type) -> Any:
    """The configuration saved in ``run_dir``; ``given`` values must agree with it."""
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise ResumeError(f"cannot resume {run_dir}: it has no {CONFIG_FILE}; pass the directory of an earlier run.")
    saved = _read_json(path, run_dir)
    if not isinstance(saved, dict):
        raise ResumeError(f"cannot resume {run_dir}: {path} holds a {type(saved).__name__}, not an object of options.")
    saved_pipeline = saved.pop("pipeline", name)
    if saved_pipeline != name:
        raise ResumeError(
            f"cannot resume {run_dir} with pipeline '{name}': it is a run of '{saved_pipeline}'; "
            f"run `dgen run {saved_pipeline} --resume {run_dir}`."
        )
    config = build_config(config_class, saved, source="saved option")
    before = config_to_dict(config)
    after = config_to_dict(build_config(config_class, {**saved, **given}))
    free = set(getattr(config_class, "may_change_on_resume", ()))  # options that only change what is shown/kept
    differ = sorted(k for k in after if after[k] != before[k] and k not in free)
    if differ:
        detail = ", ".join(f"{k}: saved {before[k]!r}, given {after[k]!r}" for k in differ)
        raise ResumeError(
            f"cannot resume {run_dir} with a different configuration ({detail}); "
            f"drop those options or start a new run with --out."
        )
    if free & set(given):
        config = build_config(config_class, {**saved, **{k: v for k, v in given.items() if k in free}})
    return config


def run_pipeline(
    name: str,
    values: Mapping[str, Any],
    *,
    out: Path | None = None,
    resume: Path | None = None,
    device: str = "auto",
    progress: bool = True,
    threads: int | None = None,
) -> RunResult:
    """Run pipeline ``name`` with option ``values`` (strings or JSON values).

    A fresh run writes ``config.json`` into ``out`` (default :func:`default_run_dir`);
    with ``resume`` the saved configuration is used, given values must agree with it,
    and a run that already wrote ``metrics.json`` is not run again. ``threads``: the CPU threads of the
    run (None: its fair share of the cores, see :mod:`dgen.threads`), set before the pipeline starts.
    """
    share = ThreadShare(threads)  # checks the value before anything is written
    pipeline: Pipeline = registry("pipelines").create(name)
    config_class = pipeline.config_class
    values = dict(values)
    saved_for = values.pop("pipeline", name)  # a saved config.json may be passed back with --config
    if saved_for != name:
        raise ConfigError(f"the options given are for pipeline '{saved_for}', not '{name}'; run `dgen run {saved_for}`.")
    torch_device = resolve_device(device)  # before anything is written: a bad --device leaves no run behind
    if resume is not None:
        if out is not None and Path(out) != Path(resume):
            raise ConfigError(f"--out {out} and --resume {resume} disagree; a resumed run stays in its directory.")
        run_dir = Path(resume)
        config = _resumed_config(run_dir, name, values, config_class)
        finished = run_dir / METRICS_FILE
        if finished.is_file():
            return RunResult(run_dir, _read_json(finished, run_dir), already_finished=True)
        start = contextlib.nullcontext()
    else:
        config = build_config(config_class, values)
        run_dir = Path(out) if out is not None else default_run_dir(name, config_to_dict(config))
        if (run_dir / CONFIG_FILE).exists():
            raise ConfigError(f"{run_dir} already holds a run; continue it with --resume {run_dir} or choose another --out.")
        check_fresh_run_dir(run_dir, CONFIG_FILE)
        start = fresh_start(run_dir, CONFIG_FILE, json.dumps({"pipeline": name, **config_to_dict(config)}, indent=2) + "\n")
    context = RunContext(run_dir=run_dir, device=torch_device, resume=resume is not None, progress=progress,
                         heartbeat=Heartbeat(run_dir, share=share))
    with disk_errors(run_dir, resumable=(run_dir / CONFIG_FILE).is_file), start, share:
        if resume is not None:
            remove_stale_temporaries(run_dir)  # a killed run's half-written checkpoint, progress.json, ...
        remove_stale_progress(run_dir)  # progress.json temporaries of dead processes (earlier versions')
        metrics = pipeline.run(config, context)
    return RunResult(run_dir, metrics)
