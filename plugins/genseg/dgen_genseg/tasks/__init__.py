"""Segmentation tasks of the GenSeg plugin (register each under the name in :data:`TASKS`)."""

from dgen_genseg.tasks.files import DatasetSource, FileTask
from dgen_genseg.tasks.folder import FolderTask
from dgen_genseg.tasks.medical import FootUlcerTask, IsicTask, LungTask, PolypTask, RetinaTask
from dgen_genseg.tasks.root import DATA_ROOT_ENV, resolve_data_root
from dgen_genseg.tasks.shapes import ShapesTask

__all__ = [
    "DATA_ROOT_ENV",
    "TASKS",
    "DatasetSource",
    "FileTask",
    "FolderTask",
    "FootUlcerTask",
    "IsicTask",
    "LungTask",
    "PolypTask",
    "RetinaTask",
    "ShapesTask",
    "resolve_data_root",
]

#: registry name -> task class.
TASKS = {
    "isic": IsicTask,
    "lung": LungTask,
    "polyp": PolypTask,
    "footulcer": FootUlcerTask,
    "retina": RetinaTask,
    "folder": FolderTask,
    "shapes": ShapesTask,
}
