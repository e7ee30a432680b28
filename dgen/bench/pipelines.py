"""What bench needs of a registered pipeline: its config dataclass and its :class:`~dgen.records.Records`."""

from __future__ import annotations

from dgen.errors import ConfigError
from dgen.plugins import registry
from dgen.records import Records

__all__ = ["pipeline_config_class", "pipeline_records"]


def pipeline_config_class(pipeline: str) -> type:
    """The config dataclass of a registered pipeline (unknown names list the registered ones)."""
    return registry("pipelines").create(pipeline).config_class


def pipeline_records(pipeline: str) -> Records:
    """The records a registered pipeline declares; ``ConfigError`` when it declares none."""
    records = getattr(registry("pipelines").create(pipeline), "records", None)
    if not isinstance(records, Records):
        raise ConfigError(
            f"pipeline '{pipeline}' declares no records, so dgen bench cannot read its runs; its class needs "
            f"`records = Records(metrics=..., headline=..., axes=...)` (see docs/bench.md)."
        )
    return records
