"""The committed web bundle (web/dist, embedded in taskapi) is exactly what the sources
build to: a change to web/src without a rebuild, or a hand-edited bundle, fails here.
The build needs web/node_modules (scripts/install-test-tools.sh: npm ci in web/)."""

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"


def build(out: Path) -> None:
    if not (WEB / "node_modules/esbuild").is_dir():
        pytest.fail("web/node_modules is missing: run scripts/install-test-tools.sh")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    subprocess.run([node, "build.mjs", str(out)], cwd=WEB, check=True, capture_output=True, timeout=300)


def files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}


def test_the_committed_bundle_is_what_the_sources_build(tmp_path):
    build(tmp_path / "dist")
    built, committed = files(tmp_path / "dist"), files(WEB / "dist")
    assert sorted(built) == sorted(committed), "rebuild: cd web && npm run build"
    different = [name for name in built if not filecmp.cmp(built[name], committed[name], shallow=False)]
    assert not different, f"{different} differ from a fresh build: cd web && npm run build"


def test_the_build_is_deterministic(tmp_path):
    build(tmp_path / "a")
    build(tmp_path / "b")
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert all(filecmp.cmp(a[name], b[name], shallow=False) for name in a)


def test_the_type_check_passes():
    tsc = WEB / "node_modules/.bin/tsc"
    if not tsc.is_file():
        pytest.fail("web/node_modules is missing: run scripts/install-test-tools.sh")
    result = subprocess.run([str(tsc), "--noEmit", "-p", "."], cwd=WEB, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
