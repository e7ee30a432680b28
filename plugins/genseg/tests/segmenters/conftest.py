"""Segmenter tests run offline: HF_HUB_OFFLINE=1 and every socket connection fails the test."""

from __future__ import annotations

import os
import socket

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"


class NetworkAccessError(AssertionError):
    """A test tried to open a network connection."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to reach the network (a weight download) fail loudly."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkAccessError(f"segmenter tests must not touch the network (tried {args[1:] or kwargs})")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
