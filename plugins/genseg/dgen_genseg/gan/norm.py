"""The normalisation layers of the pix2pix networks, chosen by name."""

from __future__ import annotations

from torch import nn

from dgen.errors import UnknownNameError

__all__ = ["NORMS", "check_norm", "make_norm"]

#: ``"batch"``: BatchNorm2d (pix2pix default); ``"instance"``: InstanceNorm2d with a learnable scale and shift.
NORMS = ("batch", "instance")


def check_norm(norm: str) -> str:
    """Return ``norm`` if it is one of :data:`NORMS`; ``UnknownNameError`` (with the closest match) otherwise."""
    if norm not in NORMS:
        raise UnknownNameError("norm", str(norm), NORMS)
    return norm


def make_norm(norm: str, channels: int) -> nn.Module:
    """A ``(B, channels, H, W) -> (B, channels, H, W)`` normalisation layer of kind ``norm``.

    Both kinds subtract a per-channel mean, so the conv before them is built without a bias.
    """
    if check_norm(norm) == "batch":
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=True)
