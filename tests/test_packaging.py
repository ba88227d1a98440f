"""Packaging: ``score-shim entry-path``, the checks scripts/package.sh runs on the archives, and the Azure ML
environment that installs the wheel (docker/aml-environment/Dockerfile).

The wheel and the sdist themselves are built, checked and installed into a fresh environment by
scripts/package.sh, which CI runs once after the tests (``.ci/run``): the tests do not build them again.
Here: what package.sh relies on (its archive checker, fed hand-made archives, right and wrong), and that
CI does run it.
"""

from __future__ import annotations

import email.message
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import dockerfile
import pytest
from click.testing import CliRunner

import score_wrappers
from shim._version import __version__
from shim.cli.app import cli

ROOT = Path(__file__).resolve().parent.parent
AML_DOCKERFILE = ROOT / "docker" / "aml-environment" / "Dockerfile"
WHEEL_NAME = f"score_shim-{__version__}-py3-none-any.whl"
#: The minimal CPU inference images Microsoft lists with a Python that score-shim supports (3.10+).
AML_BASE_IMAGES = ("mcr.microsoft.com/azureml/minimal-py312-inference",)


def _load_check_dist() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_dist", ROOT / "scripts" / "check_dist.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and the like look their module up
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no scripts/__pycache__ left behind
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


check_dist = _load_check_dist()


# -- score-shim entry-path --------------------------------------------------------------------------------


def _env(**changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCORE_SHIM_", "AZUREML_", "AML_"))}
    env.pop("PYTHONPATH", None)
    for name, value in changes.items():
        if value is not None:
            env[name] = value
    return env


def _entry_path(cwd: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shim", "entry-path"],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_entry_path_prints_the_drop_in_entry_and_nothing_else(tmp_path: Path) -> None:
    result = _entry_path(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.split("\n")
    assert len(lines) == 2 and lines[1] == "", repr(result.stdout)  # one line, newline-terminated
    entry = Path(lines[0])
    assert entry.is_absolute() and entry.is_file(), entry
    assert entry.parts[-2:] == ("score_wrappers", "entry.py")
    assert entry.samefile(Path(score_wrappers.__file__).parent / "entry.py")
    assert (entry.parent / "logging.json").is_file()  # the server picks it up beside the entry script


def _trap_script(folder: Path, marker: Path) -> Path:
    """A score.py that leaves a marker when it is imported, then fails as a broken script would."""
    script = folder / "score.py"
    code = f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
    script.write_text(code + "raise RuntimeError('broken script')\n", encoding="utf-8")
    return script


@pytest.mark.parametrize("named", [True, False], ids=["SCORE_SHIM_ENTRY_SCRIPT-set", "SCORE_SHIM_ENTRY_SCRIPT-unset"])
def test_entry_path_imports_neither_the_entry_nor_the_script(tmp_path: Path, named: bool) -> None:
    """Importing score_wrappers.entry would load the script (marker), or fail loudly when unset (stderr)."""
    marker = tmp_path / "imported.txt"
    script = _trap_script(tmp_path, marker)
    result = _entry_path(tmp_path, SCORE_SHIM_ENTRY_SCRIPT=str(script) if named else None, AML_APP_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1 and result.stdout.strip().endswith(os.path.join("score_wrappers", "entry.py"))
    assert not marker.exists(), "entry-path imported the user's score.py"


def test_entry_path_leaves_score_wrappers_unimported(tmp_path: Path) -> None:
    """Not even the package's __init__ runs: find_spec locates a top-level package without importing it."""
    code = (
        "import sys\n"
        "from shim.cli.app import cli\n"
        "try:\n"
        "    cli(['entry-path'], prog_name='score-shim')\n"
        "except SystemExit as stop:\n"
        "    assert not stop.code, stop.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('score_wrappers') or m == 'shim.runtime.entry')\n"
        "print('LOADED', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "LOADED []", result.stdout


def test_entry_path_help_shows_the_azmlinfsrv_command() -> None:
    result = CliRunner().invoke(cli, ["entry-path", "--help"])
    assert result.exit_code == 0, result.output
    assert 'azmlinfsrv --entry_script "$(score-shim entry-path)" --model_dir ./model' in result.output
    assert "SCORE_SHIM_ENTRY_SCRIPT=score.py" in result.output
    assert "entry-path" in CliRunner().invoke(cli, ["--help"]).output


def test_entry_path_fails_in_one_line_when_the_entry_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    result = CliRunner().invoke(cli, ["entry-path"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: score_wrappers/entry.py is not installed beside score-shim: reinstall score-shim."
    ]


# -- the archive checker of scripts/package.sh -------------------------------------------------------------


def _metadata(content_type: str = "text/markdown", readme: str | None = None) -> bytes:
    message = email.message.Message()
    message["Metadata-Version"] = "2.4"
    message["Name"] = "score-shim"
    message["Version"] = __version__
    message["Description-Content-Type"] = content_type
    message.set_payload((ROOT / "README.md").read_text(encoding="utf-8") if readme is None else readme)
    return message.as_string().encode("utf-8")


def _wheel(path: Path, drop: str = "", add: str = "", metadata: bytes | None = None) -> Path:
    """A wheel as hatch builds it, from this checkout's files: one left out (``drop``) or one slipped in."""
    dist_info = f"score_shim-{__version__}.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        for name in sorted(check_dist.source_files(check_dist.PACKAGES)):
            if name != drop:
                wheel.writestr(name, "")
        if add:
            wheel.writestr(add, "")
        wheel.writestr(f"{dist_info}/METADATA", metadata if metadata is not None else _metadata())
        wheel.writestr(f"{dist_info}/entry_points.txt", "[console_scripts]\nscore-shim = shim.cli:main\n")
        wheel.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\n")
        wheel.writestr(f"{dist_info}/RECORD", "")
    return path


def _sdist(path: Path, drop: str = "", add: str = "") -> Path:
    top = f"score_shim-{__version__}"
    names = sorted(check_dist.source_files(check_dist.SDIST_TOP) - {drop}) + ([add] if add else [])
    with tarfile.open(path, "w:gz") as sdist:
        for name in names:
            data = (ROOT / name).read_bytes() if (ROOT / name).is_file() else b""
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            sdist.addfile(info, io.BytesIO(data))
        pkg_info = _metadata()
        info = tarfile.TarInfo(f"{top}/PKG-INFO")
        info.size = len(pkg_info)
        sdist.addfile(info, io.BytesIO(pkg_info))
    return path


def test_the_checker_passes_archives_that_hold_every_source_file(tmp_path: Path) -> None:
    pytest.importorskip("readme_renderer.markdown")
    problems, names = check_dist.check_wheel(_wheel(tmp_path / WHEEL_NAME))
    assert problems == []
    assert "score_wrappers/logging.json" in names and "shim/cli/app.py" in names
    problems, names = check_dist.check_sdist(_sdist(tmp_path / f"score_shim-{__version__}.tar.gz"))
    assert problems == []
    assert {"pyproject.toml", "README.md", "PKG-INFO", "tests/conftest.py"} <= set(names)


@pytest.mark.parametrize(
    ("drop", "add", "expected"),
    [
        ("score_wrappers/logging.json", "", "lacks score_wrappers/logging.json"),
        ("shim/cli/app.py", "", "lacks shim/cli/app.py"),
        ("", "shim/__pycache__/app.cpython-311.pyc", "holds shim/__pycache__/app.cpython-311.pyc"),
        ("", "tests/test_wrap.py", "tests/test_wrap.py is outside"),
    ],
)
def test_the_checker_finds_what_is_wrong_in_a_wheel(tmp_path: Path, drop: str, add: str, expected: str) -> None:
    problems, _ = check_dist.check_wheel(_wheel(tmp_path / WHEEL_NAME, drop=drop, add=add))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    "add",
    [
        ".venv-test-3.11/bin/python",
        ".cache/azureml-core-venv/pyvenv.cfg",
        ".hypothesis/examples/0/1",
        ".pytest_cache/v/cache/lastfailed",
        "tests/__pycache__/conftest.cpython-311.pyc",
        "benchmarks/results/overhead.json",
        "docker/aml-environment/" + WHEEL_NAME,
        ".ci/run",
    ],
)
def test_the_checker_finds_what_an_sdist_must_not_hold(tmp_path: Path, add: str) -> None:
    problems, _ = check_dist.check_sdist(_sdist(tmp_path / "s.tar.gz", add=add))
    assert any(add in problem for problem in problems), problems


def test_the_checker_finds_a_missing_source_file_in_an_sdist(tmp_path: Path) -> None:
    problems, _ = check_dist.check_sdist(_sdist(tmp_path / "s.tar.gz", drop="tests/conftest.py"))
    assert any("lacks tests/conftest.py" in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (_metadata(content_type="text/x-rst"), "Description-Content-Type"),
        (_metadata(readme="score-shim\n"), "not README.md"),
    ],
    ids=["not-markdown", "not-the-readme"],
)
def test_the_checker_wants_the_readme_as_markdown(tmp_path: Path, metadata: bytes, expected: str) -> None:
    problems, _ = check_dist.check_wheel(_wheel(tmp_path / WHEEL_NAME, metadata=metadata))
    assert any(expected in problem for problem in problems), problems


def test_the_sdist_list_is_pyprojects() -> None:
    """scripts/check_dist.py's SDIST_TOP and pyproject.toml's sdist include list are one list."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    hatch = config["tool"]["hatch"]["build"]["targets"]
    assert [entry.strip("/") for entry in hatch["sdist"]["include"]] == list(check_dist.SDIST_TOP)
    assert hatch["wheel"]["packages"] == list(check_dist.PACKAGES)
    dev = " ".join(config["project"]["optional-dependencies"]["dev"])
    assert "build" in dev and "twine" in dev and "readme-renderer[md]" in dev


def test_ci_runs_the_package_script_once_after_the_default_pythons_tests() -> None:
    if not (ROOT / ".ci" / "run").is_file():
        pytest.skip("no .ci/run (an unpacked sdist)")
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert lines.count("bash scripts/package.sh python3") == 1
    package = lines.index("bash scripts/package.sh python3")
    assert lines.index("bash scripts/test.sh python3") < package
    assert package < next(i for i, line in enumerate(lines) if line.startswith("for minor in"))


def test_built_and_copied_archives_are_git_ignored() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["dist/" + WHEEL_NAME, f"dist/score_shim-{__version__}.tar.gz", "docker/aml-environment/" + WHEEL_NAME]
    result = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.stdout.split() == paths, result.stdout + result.stderr


# -- docker/aml-environment/Dockerfile ---------------------------------------------------------------------


def test_the_aml_environment_installs_the_wheel_this_version_builds() -> None:
    commands = dockerfile.parse_file(str(AML_DOCKERFILE))
    froms = [c for c in commands if c.cmd == "FROM"]
    assert len(froms) == 1
    image, _, tag = froms[0].value[0].rpartition(":")
    assert image in AML_BASE_IMAGES and tag == "latest", froms[0].value
    copies = [c.value for c in commands if c.cmd == "COPY"]
    assert copies == [(WHEEL_NAME, "/tmp/")], f"COPY the wheel of version {__version__}: {copies}"
    run = " ".join(" ".join(c.value) for c in commands if c.cmd == "RUN")
    assert re.search(rf"pip install .*/tmp/{re.escape(WHEEL_NAME)}", run), run
    assert all(c.value[0] not in ("0", "root") for c in commands if c.cmd == "USER"), "it must not end as root"
    assert WHEEL_NAME in AML_DOCKERFILE.read_text(encoding="utf-8").split("cp dist/", 1)[1].splitlines()[0]
