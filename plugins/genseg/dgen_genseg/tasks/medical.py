"""The paper's tasks on real datasets, each read from ``<data root>/<dataset>/`` in any layout.

=========  ========================  ===========================================  ========  =========
task       in-domain dataset         out-of-domain test sets (when present)       channels  n_labeled
=========  ========================  ===========================================  ========  =========
isic       isic2018                  ph2, dermis                                  3         40
lung       jsrt, else lung_shenzhen  lung_montgomery (+ lung_shenzhen with jsrt)  1         9
polyp      kvasir_seg                cvc_clinicdb                                 3         40
footulcer  fuseg                     —                                            3         50
retina     drive                     chase_db1                                    3         10
=========  ========================  ===========================================  ========  =========
"""

from __future__ import annotations

from pathlib import Path

from dgen_genseg.tasks.files import DatasetSource, FileTask, optional_sources
from dgen_genseg.tasks.root import resolve_data_root

__all__ = ["FootUlcerTask", "IsicTask", "LungTask", "PolypTask", "RetinaTask"]


def _sources(
    data_root: str | Path | None, in_domain: str, ood: tuple[str, ...]
) -> dict[str, DatasetSource | list[DatasetSource]]:
    root = resolve_data_root(data_root)
    return {
        "in_domain": DatasetSource(in_domain, root.dataset(in_domain)),
        "out_of_domain": optional_sources(root, ood),
    }


class IsicTask(FileTask):
    """Skin lesions in dermoscopy (RGB): ISIC 2018 Task 1; out-of-domain PH2 and DermIS.

    Reported with the Jaccard index first, as the ISIC challenge and the paper do.
    """

    channels = 3
    allow_empty_masks = False
    metric_names = ("jaccard", "dice")

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int = 40,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
    ) -> None:
        super().__init__(
            **_sources(data_root, "isic2018", ("ph2", "dermis")),
            channels=self.channels, n_labeled=n_labeled, image_size=image_size, seed=seed,
            test_fraction=test_fraction, allow_empty_masks=self.allow_empty_masks,
        )


class LungTask(FileTask):
    """Lungs in chest X-rays (greyscale): JSRT when ``<root>/jsrt`` exists, else NLM Shenzhen;
    out-of-domain NLM Montgomery (and NLM Shenzhen when training on JSRT)."""

    channels = 1
    allow_empty_masks = False

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int = 9,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
    ) -> None:
        if resolve_data_root(data_root).has("jsrt"):
            sources = _sources(data_root, "jsrt", ("lung_montgomery", "lung_shenzhen"))
        else:
            sources = _sources(data_root, "lung_shenzhen", ("lung_montgomery",))
        super().__init__(
            **sources,
            channels=self.channels, n_labeled=n_labeled, image_size=image_size, seed=seed,
            test_fraction=test_fraction, allow_empty_masks=self.allow_empty_masks,
        )


class PolypTask(FileTask):
    """Polyps in colonoscopy (RGB): Kvasir-SEG; out-of-domain CVC-ClinicDB."""

    channels = 3
    allow_empty_masks = False

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int = 40,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
    ) -> None:
        super().__init__(
            **_sources(data_root, "kvasir_seg", ("cvc_clinicdb",)),
            channels=self.channels, n_labeled=n_labeled, image_size=image_size, seed=seed,
            test_fraction=test_fraction, allow_empty_masks=self.allow_empty_masks,
        )


class FootUlcerTask(FileTask):
    """Foot ulcers in photographs (RGB): FUSeg 2021 (labelled train + validation folders).

    Empty masks are allowed: the official set has photographs without a wound.
    """

    channels = 3
    allow_empty_masks = True

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int = 50,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
    ) -> None:
        super().__init__(
            **_sources(data_root, "fuseg", ()),
            channels=self.channels, n_labeled=n_labeled, image_size=image_size, seed=seed,
            test_fraction=test_fraction, allow_empty_masks=self.allow_empty_masks,
        )


class RetinaTask(FileTask):
    """Retinal vessels in fundus photographs (RGB): DRIVE; out-of-domain CHASE_DB1.

    Thin vessels fragment at small ``image_size``: use 256 or more for meaningful numbers.
    """

    channels = 3
    allow_empty_masks = False

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int = 10,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
    ) -> None:
        super().__init__(
            **_sources(data_root, "drive", ("chase_db1",)),
            channels=self.channels, n_labeled=n_labeled, image_size=image_size, seed=seed,
            test_fraction=test_fraction, allow_empty_masks=self.allow_empty_masks,
        )
