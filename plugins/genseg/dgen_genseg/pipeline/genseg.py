"""The ``genseg`` pipeline: ``dgen run genseg --task isic --backbone unet``.

It builds the task's splits, the segmenter, and (method ``genseg``) the searchable
generator, discriminator and mask augmenter; trains with the chosen method; keeps
the best-on-validation segmenter as the final model; evaluates every test set once,
at the end; and writes the run directory's artifacts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from dgen.checkpoint import atomic_write_text, load_weights, save_weights
from dgen.errors import DataError
from dgen.pipeline import Pipeline, RunContext
from dgen.plugins import create
from dgen.rng import seed_everything
from dgen.search import derive
from dgen.task import Splits
from dgen_genseg.gan.discriminator import PatchDiscriminator
from dgen_genseg.gan.losses import from_tanh_range, to_tanh_range
from dgen_genseg.metrics import bce_dice_loss, bce_jaccard_loss
from dgen_genseg.pipeline.artifacts import save_predictions, save_samples
from dgen_genseg.pipeline.config import GenSegConfig, resolve_preset
from dgen_genseg.pipeline.evaluate import evaluate, predict
from dgen_genseg.pipeline.loop import BEST_SEGMENTER, train
from dgen_genseg.pipeline.sampler import PairSampler, stack_pairs
from dgen_genseg.pipeline.trainers import GenSegTrainer, SupervisedTrainer

__all__ = ["GenSegPipeline"]

SPLIT_FILE = "split.json"
#: segmentation losses by option value: ``(logits (B, 1, H, W), masks (B, 1, H, W)) -> scalar``
SEG_LOSSES = {
    "bce_dice": bce_dice_loss,
    "bce_jaccard": bce_jaccard_loss,
    "bce": torch.nn.functional.binary_cross_entropy_with_logits,
}
console = Console(stderr=True)


def _splits(config: GenSegConfig, run_dir: Path, resume: bool) -> tuple[Any, Splits]:
    task = create(
        "tasks", config.task, data_root=config.data_root, data_dir=config.data_dir,
        ood_dirs=config.ood_dirs or None, n_labeled=config.n_labeled, image_size=config.image_size, seed=config.seed,
    )
    path = run_dir / SPLIT_FILE
    saved = json.loads(path.read_text()) if resume and path.is_file() else None
    splits = task.splits(saved=saved)
    if saved is None:
        atomic_write_text(path, json.dumps({k: list(v) for k, v in splits.ids.items()}, indent=1) + "\n")
    return task, splits


class GenSegPipeline(Pipeline):
    """GenSeg (paper Eq. 1-8) and its supervised baselines on any registered task and segmenter."""

    config_class = GenSegConfig

    def run(self, config: GenSegConfig, context: RunContext) -> dict[str, Any]:
        device, run_dir = context.device, context.run_dir
        config, preset = resolve_preset(config, device)
        if context.progress:
            console.print(f"preset '{preset}' ({'chosen for ' + device.type if config.preset == 'auto' else 'as asked'}): "
                          f"{config.image_size}px, batch {config.batch_size}, {config.iterations} iterations")
        seed_everything(config.seed)
        task, splits = _splits(config, run_dir, context.resume)
        if len(splits.train) == 0 or len(splits.val) == 0:
            raise DataError(f"task '{config.task}' gave {len(splits.train)} training and {len(splits.val)} validation pairs; "
                            f"raise --set n_labeled (now {config.n_labeled}).")
        segmenter = create(
            "segmenters", config.backbone, in_channels=task.channels, classes=1, img_size=config.image_size,
            **config.backbone_options,
        )
        segmenter.check_input_size(config.image_size, config.image_size)
        segmenter.to(device)
        seg_loss = SEG_LOSSES[config.seg_loss]
        train_pairs = PairSampler(splits.train, device, config.seed)
        val_pairs = PairSampler(splits.val, device, config.seed + 1)
        generator = None
        if config.method == "genseg":
            generator = create(
                "generators", "pix2pix", in_channels=task.mask_channels, out_channels=task.channels,
                ngf=config.ngf, num_downs=config.num_downs, max_mult=config.max_mult,
            ).to(device)
            discriminator = PatchDiscriminator(
                condition_channels=task.mask_channels, image_channels=task.channels, ndf=config.ndf
            ).to(device)
            augmenter = create("augmenters", config.augmenter)
            trainer: SupervisedTrainer = GenSegTrainer(
                config, segmenter, seg_loss, train_pairs, val_pairs, augmenter, generator, discriminator
            )
            columns = ["disc", "gen", "seg", "arch", "arch_grad_norm", "skipped"]
        else:
            augmenter = None if config.method == "none" else create("augmenters", config.method)
            trainer = SupervisedTrainer(config, segmenter, seg_loss, train_pairs, augmenter)
            columns = ["seg"]

        def validate() -> dict[str, float]:
            return evaluate(segmenter, val_pairs.images, val_pairs.masks, hd95=False)

        result = train(
            trainer, validate=validate, run_dir=run_dir, val_every=config.val_every,
            checkpoint_every=config.checkpoint_every, columns=columns, resume=context.resume,
            progress=context.progress, plateau_patience=config.seg_plateau_patience,
        )
        segmenter.load_state_dict(load_weights(run_dir / BEST_SEGMENTER, device))
        save_weights(run_dir / "segmenter.safetensors", segmenter.state_dict())
        if generator is not None:
            self._generator_artifacts(run_dir, generator, discriminator, augmenter, train_pairs, config.seed)
        evaluation_started = time.perf_counter()
        test, panels = {}, {}
        for name, dataset in splits.test.items():
            images, masks = stack_pairs(dataset, device)
            test[name] = evaluate(segmenter, images, masks, hd95=True)
            panels[name] = (images[:4], masks[:4], predict(segmenter, images[:4]))
        if panels:
            save_predictions(run_dir / "predictions.png", panels)
        metrics = {
            "pipeline": "genseg", "task": config.task, "backbone": config.backbone, "method": config.method,
            "solver": config.solver if config.method == "genseg" else None, "seed": config.seed,
            "n_train": len(splits.train), "n_val": len(splits.val), "image_size": config.image_size,
            "iterations": trainer.total_iterations, "best_iteration": result.best_iteration,
            "val": {"dice": result.best_val["dice"], "jaccard": result.best_val["jaccard"]},
            "test": test, "wall_seconds": round(result.wall_seconds + time.perf_counter() - evaluation_started, 2),
            "device": str(device),
        }
        atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
        return metrics

    @staticmethod
    def _generator_artifacts(run_dir: Path, generator: Any, discriminator: Any, augmenter: Any,
                             pairs: PairSampler, seed: int) -> None:
        derive(generator).save(run_dir / "genotype.json")
        save_weights(run_dir / "generator.safetensors", generator.state_dict())
        save_weights(run_dir / "discriminator.safetensors", discriminator.state_dict())
        masks = pairs.masks[:8]
        aug, _ = augmenter(masks, generator=torch.Generator().manual_seed(seed))
        generator.eval()
        with torch.no_grad():
            images = from_tanh_range(generator(to_tanh_range(aug)))
        save_samples(run_dir / "samples.png", aug, images)
