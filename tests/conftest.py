"""Fixtures the project's tests share (helpers are in ``support.py``)."""

from __future__ import annotations

import pytest
from support import BOXED, LEVELS


@pytest.fixture(params=BOXED)
def level(request, monkeypatch):
    """Each isolation level with a box that this machine allows (``CNNLAB_ISOLATION``)."""
    monkeypatch.setenv("CNNLAB_ISOLATION", request.param)
    return LEVELS[request.param]
