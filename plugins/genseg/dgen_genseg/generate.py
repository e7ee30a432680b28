"""``dgen generate``: synthetic image-mask pairs from the generator of a finished GenSeg run.

The run is rebuilt from its directory alone: ``config.json`` (the options; the preset is resolved for
the device the run trained on, which ``metrics.json`` records), ``split.json`` (the training items of
the run's task) and ``generator.safetensors``. Each pair is what the run's segmenter trained on: a
training mask drawn at random, transformed by the run's mask augmenter, and the image the generator
makes from it in the run's sample mode (option ``sample_mode``, else its method's: eval for ``separate``,
train for ``genseg`` and ``joint``; in train mode the dropout is seeded by ``--seed`` and BatchNorm uses the
statistics of each batch of 16).

A run of method ``steer`` that learned pair weights draws its masks from its last pool instead (each with its
learned weight, its utility, written to ``utility.csv`` and the manifest; ``--min-utility`` keeps the pairs whose
weight reaches it), and one that learned an appearance renders through it, as its segmenter saw them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor, nn

from dgen.augmenter import Augmenter
from dgen.checkpoint import load_weights
from dgen.device import resolve_device
from dgen.errors import ConfigError, DataError
from dgen.plugins import create
from dgen.run import CONFIG_FILE
from dgen_genseg.export import PairWriter, check_format, check_output_dir
from dgen_genseg.pipeline.methods import method_entry
from dgen_genseg.finished_run import FinishedRun, read_finished_run
from dgen_genseg.pipeline.sample_mode import SampleMode, resolve_sample_mode
from dgen_genseg.pipeline.steer.pictures import rendered_pairs
from dgen_genseg.pipeline.steer.appearance_option import parse_appearance_transforms
from dgen_genseg.pipeline.steer.saved import LearnedPool, read_appearance, read_pool
from dgen_genseg.rundir import GENERATOR_FILE

__all__ = [  # GENERATOR_FILE: dgen_genseg.rundir's, re-exported where it has always been
    "GENERATOR_FILE", "GeneratorRun", "GenerateResult", "generate", "load_generator_run", "sample_pairs",
]

#: provenance of the generated pairs, written next to them
MANIFEST_FILE = "generation.json"
#: each generated pair's learned weight (runs with a learned pool)
UTILITY_FILE = "utility.csv"
_BATCH = 16


@dataclass(frozen=True)
class GeneratorRun:
    """What generation needs from a run: its resolved config, generator, augmenter and training masks.

    Attributes:
        masks: the training masks ``(N, 1, S, S)`` in {0, 1}, on the generator's device.
        ids: the task's item id of each mask.
        channels: image channels the generator makes.
        mode: the generator's mode when it samples, the run's (see :mod:`dgen_genseg.pipeline.sample_mode`).
        pool: a ``steer`` run's last pool of conditions and their learned weights, else None.
        appearance: a ``steer`` run's learned appearance, else None.
    """

    config: GenSegConfig
    generator: nn.Module
    augmenter: Augmenter
    masks: Tensor
    ids: list[str]
    channels: int
    mode: SampleMode = "eval"
    pool: Optional[LearnedPool] = None
    appearance: Optional[nn.Module] = None


@dataclass(frozen=True)
class GenerateResult:
    """Where the pairs went, their case names and the training item each mask came from."""

    out: Path
    cases: list[str]
    sources: list[str]


def _run_config(run_dir: Path) -> FinishedRun:
    """The finished run in ``run_dir``, checked to have a mask-conditioned generator."""
    run = read_finished_run(run_dir)
    method = run.config.method
    makes = method_entry(method).meta.get("generator")
    if makes == "pairs":
        raise ConfigError(
            f"{run_dir} was trained with method '{method}', whose generator makes image-mask pairs from noise, not images "
            "from masks; `dgen generate` needs a mask-conditioned generator: use a run of method genseg, joint or separate."
        )
    if makes != "pix2pix":
        raise ConfigError(
            f"{run_dir} was trained with method '{method}', which has no generator; generate from a run "
            "of `dgen run genseg --set method=genseg`."
        )
    if not (run_dir / GENERATOR_FILE).is_file():
        raise DataError(f"{run_dir} has no {GENERATOR_FILE} although the run finished; use an intact run directory.")
    return run


def load_generator_run(run_dir: str | Path, device: torch.device) -> GeneratorRun:
    """Rebuild the generator, augmenter and training masks of the GenSeg run in ``run_dir`` on ``device``.

    Raises:
        ConfigError: not a finished GenSeg run with a generator.
        DataError: the run's data or weights cannot be read back.
    """
    run_dir = Path(run_dir)
    run = _run_config(run_dir)
    config, task = run.config, run.task()
    splits = run.splits(task)  # the run's items
    generator = create(
        "generators", "pix2pix", in_channels=task.mask_channels, out_channels=task.channels,
        ngf=config.ngf, num_downs=config.num_downs, max_mult=config.max_mult, search_space=config.search_space,
    )
    try:
        generator.load_state_dict(load_weights(run_dir / GENERATOR_FILE))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise DataError(
            f"{run_dir / GENERATOR_FILE} does not fit the generator built from {CONFIG_FILE} ({first}); "
            "the files come from different runs or versions: use an intact run directory."
        ) from None
    masks = torch.stack([splits.train[i][1] for i in range(len(splits.train))])  # (N, 1, S, S)
    mode = resolve_sample_mode(config.sample_mode, method_entry(config.method).meta.get("sample_mode", "eval"))
    return GeneratorRun(
        config, generator.to(device).eval(), create("augmenters", config.augmenter), masks.to(device),
        list(splits.ids["train"]), task.channels, mode, read_pool(run_dir, device),
        read_appearance(run_dir, device, parse_appearance_transforms(config.appearance_transforms)),
    )


@torch.no_grad()
def sample_pairs(
    run: GeneratorRun, n: int, generator: torch.Generator, *, min_utility: float | None = None
) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """``n`` pairs: ``(images (n, C, S, S) in [0, 1], masks (n, 1, S, S) in {0, 1}, source indices (n,), weights)``.

    Masks are training masks drawn with replacement and augmented, or, for a run with a learned pool, pool
    conditions (those whose weight reaches ``min_utility``) drawn with replacement, with their ``weights`` ``(n,)``
    (else None). ``generator`` (CPU) makes it repeatable, the dropout of a train-mode generator and the learned
    appearance's draw included (the global random state is left as it was).
    """
    weights = None
    if run.pool is not None:
        eligible = run.pool.eligible(min_utility)
        chosen = eligible[torch.randint(len(eligible), (n,), generator=generator)]
        masks = run.pool.masks[chosen.to(run.pool.masks.device)]
        picks, weights = run.pool.sources[chosen], run.pool.weights[chosen]
    else:
        picks = torch.randint(run.masks.shape[0], (n,), generator=generator)  # (n,) on the CPU
        masks, _ = run.augmenter(run.masks[picks.to(run.masks.device)], generator=generator)
    random_render = run.mode == "train" or run.appearance is not None
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator)) if random_render else 0
    images = rendered_pairs(run.generator, run.mode, run.appearance, masks, seed=seed)  # (n, C, S, S) in [0, 1]
    return images.clamp(0, 1), masks, picks, weights


def generate(
    run_dir: str | Path, n: int, out: str | Path, *, fmt: str = "folder", seed: int = 0, device: str = "auto",
    min_utility: float | None = None,
) -> GenerateResult:
    """Write ``n`` synthetic pairs from the GenSeg run in ``run_dir`` into the new folder ``out``.

    Args:
        fmt: ``"folder"`` (``images/`` + ``masks/``) or ``"nnunet"`` (an nnU-Net v2 raw dataset); see
            :mod:`dgen_genseg.export`.
        seed: seeds the drawn masks and their augmentation.
        device: ``auto``, ``cpu`` or ``cuda`` for the generator.
        min_utility: keep only the pool's pairs whose learned weight reaches it (a ``steer`` run with
            ``steer=weights`` or ``weightnet``); each pair's weight goes to ``utility.csv`` and the manifest.

    Raises:
        ConfigError: a bad ``n`` / ``fmt`` / ``min_utility``, or ``min_utility`` for a run without learned weights.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"--n {n!r} is invalid; give the number of pairs to write, an integer >= 1.")
    if min_utility is not None and not (math.isfinite(min_utility) and 0 <= min_utility <= 2):
        raise ConfigError(f"--min-utility {min_utility:g} is invalid; learned weights lie in (0, 2) (1 = neutral): "
                          f"give e.g. --min-utility 1.")
    check_format(fmt)
    out = Path(out)
    check_output_dir(out, fmt)
    run = load_generator_run(run_dir, resolve_device(device))
    if min_utility is not None and run.pool is None:
        raise ConfigError(f"{run_dir} has no learned pair weights (method {run.config.method!r}, steer "
                          f"{run.config.steer!r}); --min-utility needs a run of --method steer with steer=weights "
                          f"or weightnet, or drop --min-utility.")
    writer = PairWriter(out, fmt, run.channels)
    rng = torch.Generator().manual_seed(seed)
    cases = [f"synth_{i:05d}" for i in range(n)]
    sources: list[str] = []
    weights: list[float] = []
    for start in range(0, n, _BATCH):
        images, masks, picks, batch_weights = sample_pairs(run, min(_BATCH, n - start), rng, min_utility=min_utility)
        writer.write(cases[start : start + len(picks)], images, masks)
        sources += [run.ids[i] for i in picks.tolist()]
        weights += [] if batch_weights is None else batch_weights.tolist()
    writer.close()
    manifest = {"run_dir": str(Path(run_dir).resolve()), "seed": seed, "format": fmt,
                "augmenter": run.config.augmenter, "sources": dict(zip(cases, sources))}
    if weights:
        manifest.update(min_utility=min_utility, utility=dict(zip(cases, weights)))
        lines = ["case,source,weight", *(f"{c},{s},{w:.6g}" for c, s, w in zip(cases, sources, weights))]
        (out / UTILITY_FILE).write_text("\n".join(lines) + "\n")
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
    return GenerateResult(out, cases, sources)
