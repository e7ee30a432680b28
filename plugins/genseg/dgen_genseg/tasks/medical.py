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
from dgen_genseg.tasks.root import DataRoot, resolve_data_root

__all__ = ["FootUlcerTask", "IsicTask", "LungTask", "PolypTask", "RetinaTask"]


class _DatasetTask(FileTask):
    """A task on named datasets under the data root; subclasses set the class attributes below."""

    #: the in-domain dataset folder and the out-of-domain ones (used when present)
    in_domain: str
    out_of_domain: tuple[str, ...] = ()
    #: n_labeled when not given: the paper's number for this task
    default_n_labeled: int = 40

    def __init__(
        self,
        *,
        data_root: str | Path | None = None,
        n_labeled: int | None = None,
        image_size: int = 64,
        seed: int = 0,
        test_fraction: float = 0.5,
    ) -> None:
        root = resolve_data_root(data_root)
        in_domain, out_of_domain = self.datasets(root)
        super().__init__(
            in_domain=DatasetSource(in_domain, root.dataset(in_domain)),
            out_of_domain=optional_sources(root, out_of_domain),
            channels=self.channels, n_labeled=self.default_n_labeled if n_labeled is None else n_labeled,
            image_size=image_size, seed=seed, test_fraction=test_fraction, allow_empty_masks=self.allow_empty_masks,
        )

    def datasets(self, root: DataRoot) -> tuple[str, tuple[str, ...]]:
        """The in-domain dataset and the out-of-domain ones to read from ``root``."""
        return self.in_domain, self.out_of_domain


class IsicTask(_DatasetTask):
    """Skin lesions in dermoscopy (RGB): ISIC 2018 Task 1; out-of-domain PH2 and DermIS.

    Reported with the Jaccard index first, as the ISIC challenge and the paper do.
    """

    channels = 3
    allow_empty_masks = False
    metric_names = ("jaccard", "dice")
    in_domain, out_of_domain, default_n_labeled = "isic2018", ("ph2", "dermis"), 40


class LungTask(_DatasetTask):
    """Lungs in chest X-rays (greyscale): JSRT when ``<root>/jsrt`` exists, else NLM Shenzhen;
    out-of-domain NLM Montgomery (and NLM Shenzhen when training on JSRT)."""

    channels = 1
    allow_empty_masks = False
    in_domain, out_of_domain, default_n_labeled = "lung_shenzhen", ("lung_montgomery",), 9

    def datasets(self, root: DataRoot) -> tuple[str, tuple[str, ...]]:
        if root.has("jsrt"):
            return "jsrt", ("lung_montgomery", "lung_shenzhen")
        return self.in_domain, self.out_of_domain


class PolypTask(_DatasetTask):
    """Polyps in colonoscopy (RGB): Kvasir-SEG; out-of-domain CVC-ClinicDB."""

    channels = 3
    allow_empty_masks = False
    in_domain, out_of_domain, default_n_labeled = "kvasir_seg", ("cvc_clinicdb",), 40


class FootUlcerTask(_DatasetTask):
    """Foot ulcers in photographs (RGB): FUSeg 2021 (labelled train + validation folders).

    Empty masks are allowed: the official set has photographs without a wound.
    """

    channels = 3
    allow_empty_masks = True
    in_domain, default_n_labeled = "fuseg", 50


class RetinaTask(_DatasetTask):
    """Retinal vessels in fundus photographs (RGB): DRIVE; out-of-domain CHASE_DB1.

    Thin vessels fragment at small ``image_size``: use 256 or more for meaningful numbers.
    """

    channels = 3
    allow_empty_masks = False
    in_domain, out_of_domain, default_n_labeled = "drive", ("chase_db1",), 10
