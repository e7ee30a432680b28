"""The paper's WGAN baseline's GAN (its ref. 28): an unconditional WGAN-GP pair generator and its critic."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, final

import torch
from torch import Tensor

from dgen.checkpoint import save_weights
from dgen_genseg.gan.wgan import WGAN_GP_BETAS, WganCritic, WganGenerator, critic_loss, to_pairs, wgan_generator_loss
from dgen_genseg.pipeline.artifacts import save_samples
from dgen_genseg.pipeline.config import GenSegConfig
from dgen_genseg.pipeline.parts.updates import Updates
from dgen_genseg.rundir import CRITIC_FILE, PAIR_GENERATOR_FILE, SAMPLES_FILE

__all__ = ["WganStep"]

#: draws a real training batch: ``() -> (images (B, C, H, W), masks (B, 1, H, W))``
RealBatches = Callable[[], tuple[Tensor, Tensor]]


@final
class WganStep:
    """The pair generator, the critic, their Adam optimisers (lr ``gen_lr``, weight decay ``gen_weight_decay``,
    WGAN-GP's betas (0, 0.9)) and the noise: the noise and the penalty's mixing weights come from one CPU
    generator seeded ``seed + 3``, saved for resume.

    One :meth:`step` is ``n_critic`` critic steps, each on a fresh real batch, then one generator step.
    """

    def __init__(self, config: GenSegConfig, pair_generator: WganGenerator, critic: WganCritic, updates: Updates) -> None:
        self.pair_generator, self.critic, self.updates = pair_generator, critic, updates
        self.batch_size, self.n_critic = config.batch_size, config.n_critic
        options = dict(lr=config.gen_lr, betas=WGAN_GP_BETAS, weight_decay=config.gen_weight_decay)
        self.pair_gen_opt = torch.optim.Adam(pair_generator.parameters(), **options)
        self.critic_opt = torch.optim.Adam(critic.parameters(), **options)
        self.noise_generator = torch.Generator().manual_seed(config.seed + 3)

    def _noise(self, n: int) -> Tensor:
        return self.pair_generator.noise(n, self.noise_generator)  # (n, nz)

    def _critic_step(self, real_batches: RealBatches) -> float | None:
        """One critic step on a fresh real batch; its loss, or None if it was skipped (NaN/Inf)."""
        real = to_pairs(*real_batches())  # (B, C + 1, H, W) in [-1, 1]
        with torch.no_grad():
            fake = self.pair_generator(self._noise(real.shape[0]))
        eps = torch.rand(real.shape[0], generator=self.noise_generator).to(real.device)  # (B,)
        loss = critic_loss(self.critic, real, fake, eps)
        return loss.item() if self.updates.apply("discriminator", loss, self.critic_opt) else None

    def step(self, real_batches: RealBatches) -> dict[str, float]:
        """``n_critic`` critic steps, then one generator step; log entries ``disc`` (the mean critic loss),
        ``gen`` (NaN where skipped) and ``skipped``."""
        self.pair_generator.train(), self.critic.train()
        d_losses = [self._critic_step(real_batches) for _ in range(self.n_critic)]
        loss = wgan_generator_loss(self.critic(self.pair_generator(self._noise(self.batch_size))))
        updated = self.updates.apply("gen", loss, self.pair_gen_opt)
        finite = [d for d in d_losses if d is not None]
        critic_ok = len(finite) == len(d_losses)
        return {
            "disc": sum(finite) / len(finite) if critic_ok else math.nan,
            "gen": loss.item() if updated else math.nan,
            "skipped": 0.0 if updated and critic_ok else 1.0,
        }

    @torch.no_grad()
    def sample(self, n: int, noise_generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` generated pairs (eval mode): images ``(n, C, H, W)`` in [0, 1], masks ``(n, 1, H, W)`` in {0, 1};
        the noise from ``noise_generator`` (default: the run's)."""
        self.pair_generator.eval()
        source = self.noise_generator if noise_generator is None else noise_generator
        noise = self.pair_generator.noise(n, source)  # (n, nz)
        return self.pair_generator.sample(noise)

    def saved(self) -> dict[str, Any]:
        """The parts a checkpoint holds: both networks, their optimisers and the noise generator."""
        return {"pair_generator": self.pair_generator, "critic": self.critic, "pair_gen_opt": self.pair_gen_opt,
                "critic_opt": self.critic_opt, "noise_generator": self.noise_generator}

    def write_artifacts(self, run_dir: Path, seed: int) -> None:
        """``pair_generator.safetensors``, ``critic.safetensors`` and ``samples.png`` (8 generated pairs, the noise
        seeded ``seed``)."""
        save_weights(run_dir / PAIR_GENERATOR_FILE, self.pair_generator.state_dict())
        save_weights(run_dir / CRITIC_FILE, self.critic.state_dict())
        images, masks = self.sample(8, torch.Generator().manual_seed(seed))
        save_samples(run_dir / SAMPLES_FILE, masks, images, mask_title="generated mask")
