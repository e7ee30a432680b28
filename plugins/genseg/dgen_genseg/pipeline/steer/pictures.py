"""The pictures a ``steer`` run adds to its directory (beside the learned variables, :mod:`.saved`):

- ``utility.png``: the last pool's highest- and lowest-utility synthetic pairs (``steer=weights``; or ``weightnet``:
  the network's weights of the pairs as the segmenter the run keeps, the best on validation, scores them);
- ``appearance.png``: the learned appearance magnitudes over the run, from ``log.csv``'s ``app_<transform>``
  columns (``steer=appearance``);
- ``geometry.png``: the learned geometry magnitudes, from its ``geo_<transform>`` columns (``steer=geometry``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import Tensor, nn

from dgen.errors import ConfigError
from dgen.rundir import LOG_FILE
from dgen.steer import LearnableAppearance, LearnableGeometry
from dgen_genseg.pipeline.curves import read_log
from dgen_genseg.pipeline.figures import DPI, Column, save_figure, tile_grid
from dgen_genseg.pipeline.levels import SegLoss
from dgen_genseg.pipeline.sample_mode import SampleMode, render
from dgen_genseg.pipeline.steer.pair_features import pair_features
from dgen_genseg.pipeline.steer.pool import SyntheticPool
from dgen_genseg.pipeline.steer.saved import save_magnitudes, save_pool
from dgen_genseg.rundir import APPEARANCE_PICTURE, GEOMETRY_PICTURE, UTILITY_PICTURE

__all__ = ["UTILITY_PICTURE", "APPEARANCE_PICTURE", "GEOMETRY_PICTURE", "write_steer_pictures", "magnitude_figure",
           "rendered_pairs"]

_SHOWN = 6  # pairs of each end of the utility ranking


def write_steer_pictures(
    run_dir: Path, generator: nn.Module, mode: SampleMode, appearance: Optional[LearnableAppearance],
    pool: Optional[SyntheticPool], *, seed: int, geometry: Optional[LearnableGeometry] = None,
    scorer: Optional[tuple[nn.Module, SegLoss]] = None,
) -> None:
    """Save the learned variables (:mod:`.saved`) and draw the pictures of the module docstring that the run's
    steered variables have. The pool's pairs are rendered once (one appearance draw seeded ``seed``, no geometry
    warp); a pool weighed by a network needs ``scorer``, a segmenter and its loss, for those pairs' features.

    Raises:
        ConfigError: a network pool without ``scorer``.
    """
    if pool is not None:
        images = rendered_pairs(generator, mode, appearance, pool.masks, seed=seed)  # (P, C, S, S)
        if pool.per_pair:
            utility = pool.utility()
        elif scorer is None:
            raise ConfigError("the utility of a pool weighed by a network needs scorer=(segmenter, seg_loss).")
        else:
            utility = pool.utility(pair_features(*scorer, images, pool.masks))
        save_pool(run_dir, pool, utility)
        _save_utility(run_dir / UTILITY_PICTURE, pool.masks, images, utility)
    for module, prefix, what, picture in ((appearance, "app_", "appearance", APPEARANCE_PICTURE),
                                          (geometry, "geo_", "geometry", GEOMETRY_PICTURE)):
        if module is not None:
            save_magnitudes(run_dir, module)
            figure = magnitude_figure(read_log(run_dir / LOG_FILE), prefix, f"learned {what} magnitudes")
            if figure is not None:
                save_figure(figure, run_dir / picture)


@torch.no_grad()
def rendered_pairs(generator: nn.Module, mode: SampleMode, appearance: Optional[LearnableAppearance],
                   masks: Tensor, *, seed: int) -> Tensor:
    """The images ``(N, C, S, S)`` in [0, 1] the segmenter would see for ``masks`` ``(N, 1, S, S)``: the generator's
    (in ``mode``) through the learned appearance with one draw seeded ``seed``."""
    images = render(generator, masks, mode, seed=seed)
    if appearance is None:
        return images
    n, c, h, w = images.shape
    draw = appearance.draw(n, c, h, w, generator=torch.Generator().manual_seed(seed), dtype=images.dtype)
    draw = draw.to(images.device)  # drawn on the CPU generator
    return appearance(images, draw)


def _save_utility(path: Path, masks: Tensor, images: Tensor, weights: Tensor) -> None:
    """The pool's highest- and lowest-weight pairs: ``masks`` ``(P, 1, S, S)``, their ``images`` ``(P, C, S, S)``,
    ``weights`` ``(P,)``."""
    order = torch.argsort(weights, descending=True)
    shown = min(_SHOWN, len(order) // 2 or 1)
    top, bottom = order[:shown], order.flip(0)[:shown]
    columns = []
    for title, index in (("highest utility", top), ("lowest utility", bottom)):
        index = index.to(masks.device)
        notes = [f"weight {float(weights[i]):.3f}" for i in index]
        columns += [Column(f"{title}: mask", masks[index]), Column(f"{title}: image", images[index], notes=notes)]
    save_figure(tile_grid(columns, header=f"synthetic pairs of the last pool ({len(weights)}), by learned weight"),
                path)


def magnitude_figure(log: dict[str, np.ndarray], prefix: str, title: str) -> Any | None:
    """The ``<prefix><transform>`` columns of a log against the iteration, one line each (None without such
    columns)."""
    from matplotlib.figure import Figure

    names = [name for name in log if name.startswith(prefix)]
    if not names:
        return None
    fig = Figure(figsize=(7.0, 4.0), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    x = log["iteration"]
    for name in names:
        kept = ~np.isnan(log[name])
        ax.plot(x[kept], log[name][kept], label=name.removeprefix(prefix))
    ax.set_xlabel("iteration")
    ax.set_ylabel("magnitude")
    ax.set_title(title)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig
