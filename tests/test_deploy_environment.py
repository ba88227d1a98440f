"""The environment part of ``check --deployment``: the script's imports, their distributions, the conda file.

Everything here is real: scoring scripts and code folders written to ``tmp_path`` and read with ``ast``,
conda files in the shapes Microsoft's examples use, and the distributions installed in the test virtualenv
(scikit-learn, numpy, joblib, azureml-inference-server-http) for what a declared package brings.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from shim.deploy.distributions import brings, conda_to_pip, distributions_for, normalise
from shim.deploy.environment import (
    DeclaredEnvironment,
    EnvironmentFileError,
    compare,
    read_conda_file,
)
from shim.deploy.findings import Finding
from shim.deploy.needs import Need
from shim.deploy.script_imports import MAX_FILES, script_imports
from tests._deployments import MODEL_1_CONDA


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def modules(needs: list[Need]) -> list[str | None]:
    return [need.module for need in needs]


def conda(tmp_path: Path, text: str, name: str = "conda.yml") -> DeclaredEnvironment:
    return read_conda_file(write(tmp_path, name, text))


def only(findings: list[Finding], topic: str = "environment", package: str | None = None) -> list[Finding]:
    return [f for f in findings if f.topic == topic and (package is None or f.package == package)]


# -- script_imports -----------------------------------------------------------------------------------


def test_each_form_of_import_is_a_need_with_its_line(tmp_path: Path) -> None:
    code = tmp_path / "onlinescoring"
    script = write(
        code,
        "score.py",
        """\
        from __future__ import annotations
        import sklearn.linear_model
        import numpy as np
        from PIL import Image
        from azure.storage.blob import BlobServiceClient
        import json, lightgbm
        import os

        def init():
            import joblib
            from azureml.contrib.services.aml_request import rawhttp
        """,
    )
    needs = script_imports(script, code)
    assert [(n.module, n.where) for n in needs] == [
        ("sklearn.linear_model", "onlinescoring/score.py:2"),
        ("numpy", "onlinescoring/score.py:3"),
        ("PIL", "onlinescoring/score.py:4"),
        ("azure.storage.blob", "onlinescoring/score.py:5"),
        ("lightgbm", "onlinescoring/score.py:6"),
        ("joblib", "onlinescoring/score.py:10"),
        ("azureml.contrib.services.aml_request", "onlinescoring/score.py:11"),
    ]
    assert all(n.distribution is None and n.version is None for n in needs)


def test_shown_root_names_the_code_folder_as_the_deployment_does(tmp_path: Path) -> None:
    script = write(tmp_path / "tmpcopy", "score.py", "import xgboost\n")
    assert [n.where for n in script_imports(script, tmp_path / "tmpcopy", shown_root="src")] == ["src/score.py:1"]


def test_relative_imports_are_the_folders_own_and_are_followed(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write(code, "pkg/__init__.py", "from .utils import load\n")
    write(code, "pkg/utils.py", "import catboost\nfrom . import sibling\n")
    write(code, "pkg/sibling.py", "import transformers\nfrom .. import nothing_there\n")
    script = write(code, "score.py", "from pkg import utils\n")
    needs = script_imports(script, code)
    assert modules(needs) == ["catboost", "transformers"]
    assert [n.where for n in needs] == ["code/pkg/utils.py:1", "code/pkg/sibling.py:1"]


def test_own_modules_imported_absolutely_are_followed_not_needed(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write(code, "helpers.py", "import lightgbm\nimport helpers  # itself: read once\n")
    write(code, "models/__init__.py", "")
    write(code, "models/loader.py", "import onnxruntime\n")
    write(code, "plain/tools.py", "import bs4\n")  # a folder without __init__.py: a namespace package
    script = write(code, "score.py", "import helpers\nimport models.loader\nfrom plain import tools\nimport requests\n")
    needs = script_imports(script, code)
    assert sorted(modules(needs)) == ["bs4", "lightgbm", "onnxruntime", "requests"]
    assert "helpers" not in modules(needs) and "models.loader" not in modules(needs)


def test_modules_beside_a_script_in_a_subfolder_are_followed(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write(code, "onlinescoring/featurise.py", "import pandas\n")
    script = write(code, "onlinescoring/score.py", "import featurise\n")
    needs = script_imports(script, code)
    assert [(n.module, n.where) for n in needs] == [("pandas", "code/onlinescoring/featurise.py:1")]


def test_stdlib_and_future_are_not_needs(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write(code, "json.py", "import yaml\n")  # the server appends the code folder: `import json` is the stdlib's
    script = write(code, "score.py", "from __future__ import annotations\nimport json, logging.config, sys\n")
    assert script_imports(script, code) == []


def test_optional_and_type_checking_imports_are_left_out(tmp_path: Path) -> None:
    code = tmp_path / "code"
    script = write(
        code,
        "score.py",
        """\
        from typing import TYPE_CHECKING
        import typing
        if TYPE_CHECKING:
            import pandas
        if typing.TYPE_CHECKING:
            import polars
        else:
            import pyarrow
        try:
            import ujson as json
        except ImportError:
            import simplejson as json
        try:
            import orjson
        except (ModuleNotFoundError, AttributeError):
            orjson = None
        try:
            import torch
        except ImportError:
            raise RuntimeError("install torch")
        try:
            import tensorflow
        except ValueError:
            pass
        """,
    )
    assert modules(script_imports(script, code)) == ["pyarrow", "simplejson", "torch", "tensorflow"]


def test_a_file_that_does_not_parse_is_skipped_and_the_rest_is_returned(tmp_path: Path) -> None:
    code = tmp_path / "code"
    write(code, "broken.py", "import lightgbm\ndef (:\n")
    write(code, "fine.py", "import xgboost\n")
    script = write(code, "score.py", "import broken\nimport fine\nimport numpy\n")
    assert modules(script_imports(script, code)) == ["numpy", "xgboost"]
    assert script_imports(write(code, "bad_score.py", "import numpy\nif True\n"), code) == []


def test_a_missing_script_gives_no_needs(tmp_path: Path) -> None:
    assert script_imports(tmp_path / "absent.py", tmp_path) == []


def test_the_walk_is_bounded(tmp_path: Path) -> None:
    code = tmp_path / "code"
    for index in range(300):
        write(code, f"m{index}.py", f"import m{index + 1}\nimport dep{index}\n")
    needs = script_imports(code / "m0.py", code)
    assert len(needs) == MAX_FILES  # one third-party import read from each of the first MAX_FILES files


# -- distributions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "first"),
    [
        ("sklearn", "scikit-learn"),
        ("sklearn.ensemble._forest", "scikit-learn"),
        ("PIL.Image", "pillow"),
        ("cv2", "opencv-python"),
        ("yaml", "pyyaml"),
        ("azure.storage.blob", "azure-storage-blob"),
        ("azure.storage.blob.aio", "azure-storage-blob"),
        ("google.protobuf.message", "protobuf"),
        ("azureml.contrib.services.aml_request", "azureml-inference-server-http"),
        ("flask", "flask"),  # installed here: read from the metadata
        ("lightgbm", "lightgbm"),
    ],
)
def test_distributions_for_names_the_pip_package(module: str, first: str) -> None:
    assert distributions_for(module)[0] == first


def test_distributions_for_lists_the_alternatives() -> None:
    assert distributions_for("cv2") == (
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    )
    assert "azureml-defaults" in distributions_for("azureml.contrib.services.aml_response")
    assert "azureml-defaults" in distributions_for("azureml.core.model")


def test_an_unknown_module_is_guessed_from_its_name() -> None:
    assert distributions_for("Some_Unknown.Thing_xyz") == ("some-unknown",)
    # A namespace part nobody installed here: named after its path, not after an installed azure package.
    assert distributions_for("azure.mgmt.unheardof.models") == ("azure-mgmt-unheardof",)


def test_normalise_and_conda_names() -> None:
    assert normalise("Foo__Bar.baz-Qux") == "foo-bar-baz-qux"
    assert normalise("PyYAML") == "pyyaml"
    assert conda_to_pip("pytorch") == "torch"
    assert conda_to_pip("py-xgboost") == "xgboost"
    assert conda_to_pip("py-opencv") == "opencv-python"
    assert conda_to_pip("Scikit_Learn") == "scikit-learn"


def test_brings_reads_the_installed_requirements_transitively() -> None:
    sklearn = brings("scikit-learn")
    assert sklearn is not None and {"numpy", "joblib", "scipy", "threadpoolctl"} <= sklearn
    server = brings("azureml-inference-server-http")
    assert server is not None and {"flask", "inference-schema", "werkzeug", "python-dateutil"} <= server
    assert "gunicorn" in server or sys.platform == "win32"


def test_brings_applies_extras_and_knows_what_it_does_not_know() -> None:
    plain = brings("inference-schema")
    assert plain is not None and "numpy" not in plain  # numpy is only in the numpy-support extra
    assert "numpy" in (brings("Inference_Schema", extras=["numpy-support"]) or set())
    assert brings("a-distribution-that-is-not-installed-here") is None


# -- read_conda_file ----------------------------------------------------------------------------------


def test_a_microsoft_style_conda_file(tmp_path: Path) -> None:
    declared = conda(tmp_path, MODEL_1_CONDA)
    assert declared.python == "=3.9"
    assert declared.unknown == []
    assert set(declared.packages) == {
        "numpy", "pip", "scikit-learn", "scipy", "azureml-defaults", "inference-schema", "joblib",
    }  # fmt: skip
    sklearn = declared.packages["scikit-learn"]
    assert (sklearn.spec, sklearn.pinned, sklearn.source) == ("=1.2.2", "1.2.2", "conda")
    schema = declared.packages["inference-schema"]
    assert (schema.name, schema.spec, schema.pinned, schema.source) == ("inference-schema", "==1.5.1", "1.5.1", "pip")
    assert schema.extras == ("numpy-support",)


def test_conda_spec_forms(tmp_path: Path) -> None:
    declared = conda(
        tmp_path,
        """\
        dependencies:
          - python==3.10.4
          - numpy 1.21.2 py39h20f2e39_0
          - conda-forge::pandas=1.5
          - scikit-learn>=1.0
          - pytorch::pytorch=2.0.1=py3.10_cuda11.7_cudnn8.5.0_0
          - py-xgboost
          - defaults/linux-64::requests[version='>=2.28']
        """,
    )
    assert declared.python == "==3.10.4"
    packages = declared.packages
    assert (packages["numpy"].spec, packages["numpy"].pinned) == ("1.21.2", "1.21.2")
    assert (packages["pandas"].spec, packages["pandas"].pinned) == ("=1.5", None)  # 1.5.*: not a pin
    assert (packages["scikit-learn"].spec, packages["scikit-learn"].pinned) == (">=1.0", None)
    assert (packages["torch"].name, packages["torch"].pinned) == ("pytorch", "2.0.1")
    assert packages["xgboost"].name == "py-xgboost"
    assert packages["requests"].source == "conda"


def test_pip_line_forms(tmp_path: Path) -> None:
    declared = conda(
        tmp_path,
        """\
        dependencies:
          - pip:
            - --extra-index-url https://example.invalid/simple
            - -r requirements.txt
            - Flask==2.3.2  # the web part
            - "inference-schema[numpy-support, pandas-support] >= 1.5"
            - mlflow ~= 2.9
            - scikit_learn===1.3.0
            - mypkg @ https://example.invalid/mypkg-1.0.tar.gz
            - git+https://github.com/example/thing.git@v1
            - git+https://github.com/example/other.git#egg=other_thing
            - "torch==2.1.0; platform_system == 'Linux'"
            - tensorflow==2.15.*
            - 42
        """,
    )
    packages = declared.packages
    assert (packages["flask"].name, packages["flask"].pinned) == ("Flask", "2.3.2")
    assert packages["inference-schema"].extras == ("numpy-support", "pandas-support")
    assert (packages["inference-schema"].spec, packages["inference-schema"].pinned) == (">= 1.5", None)
    assert (packages["mlflow"].spec, packages["mlflow"].pinned) == ("~= 2.9", None)
    assert packages["scikit-learn"].pinned == "1.3.0"
    assert packages["mypkg"].spec.startswith("@ ") and packages["mypkg"].pinned is None
    assert "other-thing" in packages
    assert packages["torch"].pinned == "2.1.0"
    assert packages["tensorflow"].pinned is None
    assert declared.unknown == ["-r requirements.txt", "git+https://github.com/example/thing.git@v1", "42"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dependencies: [python=3.9\n  - bad: {\n", "is not valid YAML at line"),
        ("- python=3.9\n- numpy\n", "is not a conda environment file: it is a list"),
        ("", "is not a conda environment file: it is empty"),
        ("name: env\nchannels: [conda-forge]\n", "has no `dependencies` list"),
        ("dependencies: numpy\n", "has no `dependencies` list"),
    ],
)
def test_a_bad_conda_file_is_one_clear_line(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(EnvironmentFileError) as raised:
        conda(tmp_path, text, name="env.yml")
    message = raised.value.message
    assert message.startswith("env.yml ") and words in message and "\n" not in message


def test_a_missing_conda_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match="no such file"):
        read_conda_file(tmp_path / "nowhere.yml")


# -- compare ------------------------------------------------------------------------------------------

#: A conda file whose packages are all installed in the test virtualenv: what they bring is known.
KNOWN = """\
dependencies:
  - python=3.11
  - scikit-learn
  - pip:
    - azureml-inference-server-http
"""


def test_a_missing_package_is_an_error_naming_the_pip_name_and_the_places(tmp_path: Path) -> None:
    declared = conda(tmp_path, KNOWN)
    needs = [
        Need("lightgbm", "src/score.py:4"),
        Need("lightgbm.sklearn", "src/helpers.py:2"),
        Need("lightgbm", "src/a.py:1"),
        Need("lightgbm", "src/b.py:1"),
    ]
    [finding] = only(compare(declared, needs, image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04"))
    assert (finding.level, finding.fix, finding.package) == ("error", "lightgbm", "lightgbm")
    assert finding.message == (
        "src/score.py:4, src/helpers.py:2, src/a.py:1 and 1 more import lightgbm, which the environment does not "
        "install: add lightgbm to conda.yml's pip list"
    )


def test_microsofts_example_environment_is_known_although_azureml_defaults_is_not_installed(tmp_path: Path) -> None:
    # azureml-defaults is named by every Microsoft example and installed almost nowhere: its published
    # requirements say what it brings (numpy, pyyaml, azureml-core, ...), so a gap is still an error.
    declared = conda(tmp_path, MODEL_1_CONDA)
    needs = [Need("lightgbm", "onlinescoring/score.py:3"), Need("yaml", "onlinescoring/score.py:4")]
    found = only(compare(declared, needs))
    assert [(f.level, f.package) for f in found] == [("error", "lightgbm")], found


def test_an_import_name_becomes_its_distribution(tmp_path: Path) -> None:
    findings = compare(conda(tmp_path, KNOWN), [Need("PIL.Image", "src/score.py:3")])
    [finding] = only(findings, package="pillow")
    assert finding.level == "error"
    assert finding.message.startswith("src/score.py:3 imports PIL.Image, which the environment does not install")
    assert "add pillow to conda.yml's pip list" in finding.message


def test_declared_and_brought_packages_satisfy_needs(tmp_path: Path) -> None:
    needs = [
        Need("sklearn.linear_model", "src/score.py:1"),  # conda's scikit-learn
        Need("numpy", "src/score.py:2"),  # brought by scikit-learn
        Need("joblib", "src/score.py:3"),
        Need("flask", "src/score.py:4"),  # brought by the server
        Need("azureml.contrib.services.aml_request", "src/score.py:5"),  # the server provides it
        Need("os.path", "src/score.py:6"),
        Need("sklearn.ensemble._forest", "model/model.pkl", distribution="scikit-learn"),
    ]
    assert only(compare(conda(tmp_path, KNOWN), needs)) == []


def test_the_conda_name_pytorch_satisfies_import_torch(tmp_path: Path) -> None:
    declared = conda(tmp_path, KNOWN.replace("  - scikit-learn\n", "  - pytorch::pytorch=2.3.1\n"))
    findings = only(compare(declared, [Need("torch.nn", "src/score.py:1")]))
    assert [f for f in findings if f.package == "torch"] == []
    # torch is not installed here, so what it brings is unknown: a missing import becomes a warning.
    [warning] = only(compare(declared, [Need("lightgbm", "src/score.py:2")]))
    assert warning.level == "warning" and "pytorch" in warning.message and warning.package == "lightgbm"


def test_no_server_is_an_error_unless_the_image_has_it(tmp_path: Path) -> None:
    declared = conda(tmp_path, "dependencies:\n  - python=3.11\n  - scikit-learn\n")
    [finding] = only(compare(declared, [], image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"))
    assert (finding.level, finding.package) == ("error", "azureml-inference-server-http")
    assert "cannot start without the server" in finding.message
    assert "add azureml-inference-server-http to conda.yml's pip list" in finding.message
    inference = "mcr.microsoft.com/azureml/minimal-ubuntu22.04-py39-cpu-inference:latest"
    assert only(compare(declared, [], image=inference)) == []


def test_azureml_defaults_brings_the_server_and_azureml_core(tmp_path: Path) -> None:
    declared = conda(tmp_path, MODEL_1_CONDA)
    needs = [Need("azureml.core.model", "src/score.py:1"), Need("azureml.contrib.services.aml_response", "s.py:2")]
    assert only(compare(declared, needs)) == []


def test_a_version_mismatch_is_a_warning_naming_both_versions(tmp_path: Path) -> None:
    declared = conda(tmp_path, MODEL_1_CONDA)
    needs = [Need("sklearn.linear_model._base", "model/model.pkl", distribution="scikit-learn", version="0.24.2")]
    [finding] = [f for f in compare(declared, needs) if f.topic == "environment" and f.package == "scikit-learn"]
    assert finding.level == "warning"
    assert finding.fix == "scikit-learn==0.24.2"
    assert "model/model.pkl was saved with scikit-learn 0.24.2; the environment pins 1.2.2" in finding.message
    assert "InconsistentVersionWarning" in finding.message


def test_the_same_version_or_a_matching_prefix_is_not_a_mismatch(tmp_path: Path) -> None:
    declared = conda(tmp_path, KNOWN.replace("  - scikit-learn\n", "  - scikit-learn=1.2\n  - numpy=1.26.0\n"))
    needs = [
        Need("sklearn", "model/model.pkl", distribution="scikit-learn", version="1.2.2"),
        Need("numpy", "model/model.pkl", distribution="numpy", version="1.26"),
    ]
    assert [f for f in compare(declared, needs) if "was saved with" in f.message] == []
    other = [Need("sklearn", "model/model.pkl", distribution="scikit-learn", version="1.3.0")]
    [finding] = [f for f in compare(declared, other) if "was saved with" in f.message]
    assert "asks for scikit-learn=1.2" in finding.message


def test_fidelity_names_this_python_and_each_pinned_version_installed_here(tmp_path: Path) -> None:
    declared = conda(tmp_path, MODEL_1_CONDA)
    needs = [Need("sklearn", "src/score.py:1")]
    fidelity = only(compare(declared, needs), topic="fidelity")
    local = ".".join(str(part) for part in sys.version_info[:3])
    python = [f for f in fidelity if "Python" in f.message]
    if sys.version_info[:2] != (3, 9):
        assert python[0].level == "warning"
        assert f"the rehearsal runs Python {local} here; the environment asks for python=3.9" in python[0].message
    sklearn = [f for f in fidelity if f.package == "scikit-learn"]
    assert sklearn and sklearn[0].level == "warning"  # the script imports it, and 1.2.2 is not what runs here
    assert "the environment pins 1.2.2: on this point the rehearsal is not faithful" in sklearn[0].message
    assert not [f for f in fidelity if f.package == "pip"]  # a packaging tool's pin changes nothing here


def test_the_models_python_against_the_environments(tmp_path: Path) -> None:
    declared = conda(tmp_path, MODEL_1_CONDA)
    [finding] = [f for f in compare(declared, [], python_needed="3.10.12") if "model was saved" in f.message]
    assert (finding.level, finding.fix) == ("warning", "python=3.10")
    assert not [f for f in compare(declared, [], python_needed="3.9.16") if "model was saved" in f.message]


def test_an_unread_line_softens_a_missing_server_to_a_warning(tmp_path: Path) -> None:
    declared = conda(tmp_path, "dependencies:\n  - python=3.11\n  - pip:\n    - -r requirements.txt\n")
    [finding] = only(compare(declared, [], image="ubuntu:22.04"))
    assert finding.level == "warning" and "-r requirements.txt" in finding.message
