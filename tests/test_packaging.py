"""pyproject's package list matches the tree: everything the tools load at run time ships in the wheel."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _config():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["setuptools"]


def _folder(cfg, package):
    mapped = cfg["package-dir"]
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        head = ".".join(parts[:n])
        if head in mapped:
            return ROOT / mapped[head] / Path(*parts[n:])
    raise AssertionError("no package-dir entry for " + package)


def test_every_listed_package_exists():
    cfg = _config()
    for package in cfg["packages"]:
        folder = _folder(cfg, package)
        assert folder.is_dir(), package
        assert any(folder.glob("*.py")) or any(folder.glob("*.json")), package


def test_every_python_folder_under_the_package_is_listed():
    cfg = _config()
    listed = {_folder(cfg, p).resolve() for p in cfg["packages"]}
    host = ROOT / "host_tools" / "retrowalk"
    for d in [host] + [p for p in host.rglob("*") if p.is_dir() and p.name != "__pycache__"]:
        if any(d.glob("*.py")):
            assert d.resolve() in listed, "%s holds .py files but is not in pyproject's packages" % d


def test_firmware_and_board_files_ship_as_package_data():
    data = _config()["package-data"]
    assert "*.py" in data["retrowalk.firmware"]
    assert "*.json" in data["retrowalk.boards"] and "README.md" in data["retrowalk.boards"]
    assert any((ROOT / "boards").glob("*.json"))


def test_installed_mpremote_version_is_in_the_proven_range():
    # The link drives mpremote's transport calls; pyproject pins the releases the board tests
    # passed on (.ci/mpremote-range proves a range). A release outside it needs proving first.
    from importlib.metadata import version

    from packaging.requirements import Requirement

    with open(ROOT / "pyproject.toml", "rb") as f:
        deps = [Requirement(d) for d in tomllib.load(f)["project"]["dependencies"]]
    (req,) = [r for r in deps if r.name == "mpremote"]
    assert any(s.operator == "<" for s in req.specifier), "the range is open: %s" % req
    installed = version("mpremote")
    assert req.specifier.contains(installed), "mpremote %s is outside the proven range %s" % (installed, req.specifier)
