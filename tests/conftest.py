"""Shared fixtures: the shared walking data, the MicroPython VM, firmware imports."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import boardimport
from retrowalk import micropython_vm

boardimport.install()  # scripts that run on both interpreters say `from firmware import ...`

# No per-example deadline and no "too slow" health check (both time the machine: a busy CI
# machine is slow, not wrong); CI also derandomises, so a run is reproducible and a property
# failure there is a real, repeatable one.
_UNTIMED = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", **_UNTIMED)
settings.register_profile("ci", derandomize=True, print_blob=True, **_UNTIMED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """Path of ../shared/data; tests that need it skip where it is absent (CI always has it)."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.skip("../shared/data is absent: the walking recordings live outside the project")
    return SHARED_DATA


@pytest.fixture(scope="session")
def slow_soft_walk(shared_data):
    """Real L5 trial 3-2 under `retrowalk evaluate`'s "slow and soft" condition (0.7x speed, half
    the motion: a quarter of the trunk's acceleration, an older walker's steps)."""
    from retrowalk import evaluate

    tr = evaluate.load_trial(str(shared_data / "real-l5-forward" / "3-2.csv"), "-z")  # Xsens at L5: +z backward
    return evaluate.CONDITIONS["slow and soft"].take(tr, None)


@pytest.fixture(scope="session")
def mp_run():
    """Run a code string in the real MicroPython VM with the firmware on its path."""
    micropython_vm.executable()  # a missing VM is an install error, not a skip
    return micropython_vm.run_code


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RETROWALK_TEST_PORT"):
        return
    skip = pytest.mark.skip(reason="needs a real board: set RETROWALK_TEST_PORT=/dev/ttyACM0")
    for item in items:
        if "board" in item.keywords:
            item.add_marker(skip)
