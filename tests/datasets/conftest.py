"""Fixtures for the datasets tests: a sandbox in which any network use fails."""

from __future__ import annotations

import socket

import pytest


class NetworkUsed(AssertionError):
    """Raised when code under test tries to open a network connection."""


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Forbid sockets and point every data/home directory at an empty tmp dir.

    Yields the tmp directory; tests check it is still empty afterwards (no
    download, no cache written to a home directory).
    """

    def refuse(*args, **kwargs):
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NILEARN_DATA", str(home / "nilearn_data"))
    monkeypatch.setenv("NILEARN_SHARED_DATA", str(home / "nilearn_shared"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    return home
