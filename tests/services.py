"""Skipping, or failing in CI, when a real service a test needs is not there."""

import os

import pytest


def require_service(name, reason):
    """Skip the test because ``name`` is unavailable; in CI (``DL_REQUIRE_SERVICES`` set) fail it.

    Every skip for a missing service goes through here, so CI cannot pass by skipping.
    """
    if os.environ.get("DL_REQUIRE_SERVICES"):
        pytest.fail(f"{name} is required (DL_REQUIRE_SERVICES is set) but unavailable: {reason}")
    pytest.skip(reason)
