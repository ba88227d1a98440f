"""The modules a pickled model needs, read from real pickle and joblib files without loading them, and
what a model folder (pickles, an MLflow model, Git LFS pointers) needs from the environment."""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import struct
import sys
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from shim.deploy.findings import Finding
from shim.deploy.model_needs import model_needs
from shim.deploy.needs import Need
from shim.deploy.pickle_scan import PickleScan, scan_pickle

LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    b"size 12345678\n"
)

Dump = Callable[[Any, Path], None]


def _pickle_dump(protocol: int = pickle.DEFAULT_PROTOCOL) -> Dump:
    def dump(value: Any, path: Path) -> None:
        with open(path, "wb") as file:
            pickle.dump(value, file, protocol=protocol)

    return dump


def _joblib_dump(compress: Any = 0, protocol: int | None = None) -> Dump:
    def dump(value: Any, path: Path) -> None:
        joblib.dump(value, path, compress=compress, protocol=protocol)

    return dump


DUMPS = {
    "pickle": _pickle_dump(),
    "joblib": _joblib_dump(),
    "joblib-compress3": _joblib_dump(3),
}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.random((200, 4))
    return features, (features[:, 0] + features[:, 1] > 1).astype(int)


@pytest.fixture(scope="module")
def estimators(data: tuple[np.ndarray, np.ndarray]) -> dict[str, tuple[Any, str]]:
    """Fitted estimators and a module each one's pickle must name."""
    x, y = data
    return {
        "linear": (LinearRegression().fit(x, y), "sklearn.linear_model._base"),
        "tree": (DecisionTreeClassifier(random_state=0).fit(x, y), "sklearn.tree._tree"),  # structured `nodes`
        "forest": (RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y), "sklearn.ensemble._forest"),
        "pipeline": (
            Pipeline([("scale", StandardScaler()), ("regress", LinearRegression())]).fit(x, y),
            "sklearn.preprocessing._data",
        ),
    }


@pytest.fixture
def mymodels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A module of the user's own (``mymodels.Thing``), importable while the pickles are written and
    removed from ``sys.modules`` before they are scanned, to see that the scan does not import it."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "mymodels.py").write_text(
        "class Thing:\n    def __init__(self, weights):\n        self.weights = weights\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(folder))
    module = importlib.import_module("mymodels")
    yield module
    sys.modules.pop("mymodels", None)


def _forget(module_name: str) -> None:
    sys.modules.pop(module_name, None)


def _assert_complete(scan: PickleScan) -> None:
    assert scan.complete, scan.problem
    assert scan.problem is None


# -- scikit-learn models ------------------------------------------------------------------------------


@pytest.mark.parametrize("dump_name", DUMPS)
@pytest.mark.parametrize("estimator_name", ["linear", "tree", "forest", "pipeline"])
def test_sklearn_models_name_their_modules_and_version(
    tmp_path: Path, estimators: dict[str, tuple[Any, str]], dump_name: str, estimator_name: str
) -> None:
    estimator, module = estimators[estimator_name]
    path = tmp_path / "model.pkl"
    DUMPS[dump_name](estimator, path)

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert module in scan.modules
    assert any(name.startswith("numpy") for name in scan.modules)
    assert scan.sklearn_version == sklearn.__version__
    if dump_name.startswith("joblib") and estimator_name != "linear":
        assert "joblib.numpy_pickle" in scan.modules


@pytest.mark.parametrize("dump_name", DUMPS)
def test_what_follows_big_and_object_arrays_is_still_found(
    tmp_path: Path, estimators: dict[str, tuple[Any, str]], mymodels: Any, dump_name: str
) -> None:
    """joblib writes each array's bytes (and an object array as a nested pickle) into the stream: the scan
    steps over exactly those bytes, or it would not find what was pickled after them."""
    forest, _ = estimators["forest"]
    pipeline, _ = estimators["pipeline"]
    value = {
        "big": np.zeros(100_000),
        "objects": np.array([1, "two", None, mymodels.Thing([1.0])], dtype=object),
        "model": forest,
        "after": pipeline,
    }
    path = tmp_path / "model.joblib"
    DUMPS[dump_name](value, path)
    _forget("mymodels")

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert {"sklearn.ensemble._forest", "sklearn.tree._tree", "sklearn.pipeline", "mymodels"} <= scan.modules
    assert scan.sklearn_version == sklearn.__version__
    assert "mymodels" not in sys.modules  # named, never imported


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("compress", [0, 3])
def test_every_kind_of_joblib_array_is_sized_without_numpy(tmp_path: Path, mymodels: Any, compress: int) -> None:
    """Each array below is followed by a class of its own: a wrong size for any one of them loses the rest."""
    arrays = {
        "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        "structured": np.zeros(5, dtype=[("a", "f8"), ("b", "i1"), ("c", "S3")]),
        "aligned": np.zeros(3, dtype=np.dtype([("a", "f8"), ("b", "i1")], align=True)),
        "subarray": np.zeros(2, dtype=("f8", (3,))),
        "unicode": np.array(["ab", "cde"]),
        "bytes": np.array([b"x", b"yz"]),
        "datetime": np.array(["2024-01-01", "2024-06-30"], dtype="M8[ns]"),
        "timedelta": np.array([1, 2], dtype="m8[s]"),
        "bool": np.array([True, False, True]),
        "complex": np.zeros(3, dtype=complex),
        "half": np.zeros(7, dtype=np.float16),
        "big_endian": np.arange(5, dtype=">i4"),
        "zero_d": np.array(3.5),
        "empty": np.zeros((0, 4)),
        "bytes_void": np.zeros(4, dtype="V6"),
        "structured_objects": np.array([(1, "x")], dtype=[("a", "i8"), ("b", "O")]),
        "matrix": np.asmatrix(np.eye(2)),
    }
    value: list[tuple[str, Any, Any]] = [(name, array, mymodels.Thing(name)) for name, array in arrays.items()]
    value.append(("last", None, LinearRegression()))
    path = tmp_path / "arrays.joblib"
    joblib.dump(value, path, compress=compress)

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert {"mymodels", "sklearn.linear_model._base", "numpy"} <= scan.modules


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
@pytest.mark.parametrize("writer", ["pickle", "joblib"])
def test_protocols(
    tmp_path: Path, estimators: dict[str, tuple[Any, str]], mymodels: Any, protocol: int, writer: str
) -> None:
    tree, _ = estimators["tree"]
    value = {"weights": np.arange(1000.0), "thing": mymodels.Thing([1, 2]), "model": tree}
    path = tmp_path / "model.pkl"
    dump = _pickle_dump(protocol) if writer == "pickle" else _joblib_dump(protocol=protocol)
    dump(value, path)
    _forget("mymodels")

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert {"mymodels", "sklearn.tree._classes", "sklearn.tree._tree"} <= scan.modules
    assert scan.sklearn_version == sklearn.__version__
    assert "mymodels" not in sys.modules


@pytest.mark.parametrize("dump_name", ["pickle", "joblib"])
def test_a_users_own_class(tmp_path: Path, mymodels: Any, dump_name: str) -> None:
    path = tmp_path / "thing.pkl"
    DUMPS[dump_name](mymodels.Thing(np.ones(10)), path)
    _forget("mymodels")

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert "mymodels" in scan.modules
    assert scan.sklearn_version is None
    assert "mymodels" not in sys.modules


@pytest.mark.parametrize("compressor", ["zlib", "gzip", "bz2", "lzma", "xz"])
def test_joblib_compressors(tmp_path: Path, estimators: dict[str, tuple[Any, str]], compressor: str) -> None:
    forest, _ = estimators["forest"]
    path = tmp_path / "model.pkl"
    joblib.dump({"big": np.ones(50_000), "model": forest}, path, compress=(compressor, 3))

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert "sklearn.ensemble._forest" in scan.modules
    assert scan.sklearn_version == sklearn.__version__


def test_lz4_without_the_lz4_package_is_reported(tmp_path: Path) -> None:
    if importlib.util.find_spec("lz4") is not None:
        pytest.skip("lz4 is installed: the file would be read")
    path = tmp_path / "model.pkl.lz4"
    path.write_bytes(b"\x04\x22\x4d\x18" + bytes(100))

    scan = scan_pickle(path)

    assert not scan.complete
    assert scan.problem is not None and "LZ4" in scan.problem and "lz4 package" in scan.problem


def test_pickles_one_after_another_are_all_read(tmp_path: Path, mymodels: Any) -> None:
    path = tmp_path / "two.pkl"
    with open(path, "wb") as file:
        pickle.dump(mymodels.Thing(1), file, protocol=4)
        pickle.dump(LinearRegression(), file, protocol=4)

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert {"mymodels", "sklearn.linear_model._base"} <= scan.modules


def test_big_data_is_not_kept_in_memory(tmp_path: Path, mymodels: Any) -> None:
    """A plainly pickled array's bytes are stepped over, not read into memory."""
    path = tmp_path / "big.pkl"
    array = np.zeros(4_000_000)  # 32 MB
    _pickle_dump(5)({"big": array, "thing": mymodels.Thing(1)}, path)
    joblib_path = tmp_path / "big.joblib"
    joblib.dump({"big": array, "thing": mymodels.Thing(1)}, joblib_path, compress=3)
    del array

    for scanned in (path, joblib_path):
        tracemalloc.start()
        try:
            scan = scan_pickle(scanned)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        _assert_complete(scan)
        assert "mymodels" in scan.modules
        assert peak < 8_000_000, f"{scanned.name}: {peak:,} bytes at peak"


# -- safety -------------------------------------------------------------------------------------------


class _Exploit:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (self.command,)


@pytest.mark.parametrize("protocol", [0, 2, 5])
@pytest.mark.parametrize("writer", ["pickle", "joblib"])
def test_a_pickle_that_would_run_a_command_runs_nothing(tmp_path: Path, protocol: int, writer: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    dump = _pickle_dump(protocol) if writer == "pickle" else _joblib_dump(protocol=protocol)
    dump({"model": _Exploit(f"touch {marker}"), "after": LinearRegression()}, path)

    scan = scan_pickle(path)

    assert not marker.exists()
    assert scan.modules & {"os", "posix", "nt"}
    assert "sklearn.linear_model._base" in scan.modules  # the scan went on past the call it did not make
    _assert_complete(scan)


def test_a_hand_written_global_is_not_imported(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    # GLOBAL of a module that exists nowhere, called with REDUCE: a real load raises ModuleNotFoundError.
    path.write_bytes(b"\x80\x02cno_such_package.sub\nmake\nq\x00)R.")

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert scan.modules == frozenset({"no_such_package.sub"})
    assert "no_such_package" not in sys.modules


# -- files that are not (whole) pickles ---------------------------------------------------------------


def test_git_lfs_pointer(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(LFS_POINTER)

    scan = scan_pickle(path)

    assert not scan.complete
    assert scan.modules == frozenset()
    assert scan.problem is not None
    assert "Git LFS pointer" in scan.problem and "git lfs pull" in scan.problem and "12.3 MB" in scan.problem


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"just some notes about the model\nversion 2\n", "it is text, not a pickle"),
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "HTML"),
        (b'{"weights": [1, 2, 3]}', "JSON"),
        (b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\xff\xfe", "0xff is not a pickle opcode"),
        (b"PK\x03\x04" + bytes(40), "zip archive"),
        (b"\x93NUMPY\x01\x00" + bytes(40), "NumPy .npy"),
    ],
)
def test_files_that_are_not_pickles(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(content)

    scan = scan_pickle(path)

    assert not scan.complete
    assert scan.problem is not None and words in scan.problem


@pytest.mark.parametrize("dump_name", DUMPS)
def test_truncated_files_keep_the_modules_seen(
    tmp_path: Path, estimators: dict[str, tuple[Any, str]], mymodels: Any, dump_name: str
) -> None:
    forest, _ = estimators["forest"]
    path = tmp_path / "model.pkl"
    DUMPS[dump_name]({"thing": mymodels.Thing(1), "big": np.ones(200_000), "model": forest}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])

    scan = scan_pickle(path)

    assert not scan.complete
    assert scan.problem is not None and "truncated" in scan.problem
    assert "mymodels" in scan.modules  # pickled before the cut


def test_a_missing_file_and_a_folder_are_problems_not_errors(tmp_path: Path) -> None:
    for path in (tmp_path / "nothing.pkl", tmp_path):
        scan = scan_pickle(path)
        assert not scan.complete
        assert scan.problem is not None and "cannot be read" in scan.problem


def test_the_time_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "many.pkl"
    _pickle_dump(2)([LinearRegression() for _ in range(3000)], path)

    scan = scan_pickle(path, max_seconds=0.0)

    assert not scan.complete
    assert scan.problem is not None and "stopped after 0 s" in scan.problem
    assert "sklearn.linear_model._base" in scan.modules


def test_old_joblib_with_arrays_in_separate_files(tmp_path: Path) -> None:
    """joblib before 0.10 wrote NDArrayWrapper(filename=...) and each array as a .npy file beside the pickle."""
    state = b"}q\x01(X\x08\x00\x00\x00filenameq\x02X\x10\x00\x00\x00model.pkl_01.npyq\x03u"
    body = b"\x80\x02cjoblib.numpy_pickle\nNDArrayWrapper\nq\x00)\x81" + state + b"b."
    path = tmp_path / "model.pkl"
    path.write_bytes(body)
    (tmp_path / "model.pkl_01.npy").write_bytes(b"\x93NUMPY")

    scan = scan_pickle(path)

    assert not scan.complete
    assert "joblib.numpy_pickle" in scan.modules
    assert scan.problem is not None and "joblib before 0.10" in scan.problem and "model.pkl_01.npy" in scan.problem


def test_old_joblib_zfile(tmp_path: Path, mymodels: Any) -> None:
    """joblib before 0.9.3 compressed as "ZF", the length in hex, then zlib."""
    data = pickle.dumps(mymodels.Thing(1), protocol=2)
    path = tmp_path / "model.pkl"
    path.write_bytes(b"ZF" + hex(len(data)).encode().ljust(19) + zlib.compress(data))

    scan = scan_pickle(path)

    _assert_complete(scan)
    assert "mymodels" in scan.modules


def test_numpy_dtype_state_without_numpy_layout_surprises(tmp_path: Path) -> None:
    """A joblib array whose dtype the scanner cannot size stops the scan with a plain problem."""
    wrapper_state = (
        b"}(X\x05\x00\x00\x00shapeK\x02\x85X\x05\x00\x00\x00dtype"
        b"cnumpy.dtypes\nStringDType\n)\x81X\x1b\x00\x00\x00numpy_array_alignment_bytesK\x10u"
    )
    path = tmp_path / "model.joblib"
    path.write_bytes(b"\x80\x02cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81" + wrapper_state + b"b" + bytes(40))

    scan = scan_pickle(path)

    assert not scan.complete
    assert scan.problem is not None and "joblib array" in scan.problem


# -- model_needs: a model folder ----------------------------------------------------------------------


def _modules(needs: list[Need]) -> set[str]:
    return {need.module for need in needs if need.module}


def test_model_folder_needs(tmp_path: Path, estimators: dict[str, tuple[Any, str]], mymodels: Any) -> None:
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / ".git").mkdir()
    linear, _ = estimators["linear"]
    joblib.dump(linear, root / "sklearn_regression_model.pkl")
    joblib.dump({"thing": mymodels.Thing(1)}, root / "sub" / "extra.joblib.gz")  # gzip by its extension
    _pickle_dump(0)({"weights": [1.0, 2.0]}, root / "sub" / "plain.pickle")  # stdlib only: no needs
    _pickle_dump(4)(mymodels.Thing(2), root / "weights")  # no suffix: found by its first bytes
    _pickle_dump(4)(RandomForestClassifier(), root / ".git" / "hidden.pkl")
    (root / "README.md").write_text("a model\n", encoding="utf-8")
    _forget("mymodels")

    found = model_needs(root, shown_as="model")

    assert found.findings == []
    assert Need(module="sklearn.linear_model._base", where="model/sklearn_regression_model.pkl") in found.needs
    assert (
        Need(
            module="sklearn",
            where="model/sklearn_regression_model.pkl",
            distribution="scikit-learn",
            version=sklearn.__version__,
        )
        in found.needs
    )
    assert Need(module="mymodels", where="model/sub/extra.joblib.gz") in found.needs
    assert Need(module="mymodels", where="model/weights") in found.needs
    assert "sklearn.ensemble._forest" not in _modules(found.needs)  # .git is not the model
    assert not {"builtins", "copyreg", "copy_reg", "__builtin__", "_codecs"} & _modules(found.needs)
    assert {need.where for need in found.needs} == {
        "model/sklearn_regression_model.pkl",
        "model/sub/extra.joblib.gz",
        "model/weights",
    }
    assert found.python_version is None


def test_a_single_model_file(tmp_path: Path, estimators: dict[str, tuple[Any, str]]) -> None:
    path = tmp_path / "sklearn_regression_model.pkl"
    joblib.dump(estimators["linear"][0], path)

    for shown_as, where in (("model", "model/sklearn_regression_model.pkl"), (path.name, path.name)):
        found = model_needs(path, shown_as=shown_as)
        assert Need(module="sklearn.linear_model._base", where=where) in found.needs


def test_lfs_pointers_and_broken_files_become_findings(tmp_path: Path, mymodels: Any) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (root / "x.pkl").write_bytes(LFS_POINTER)
    (root / "weights.onnx").write_bytes(LFS_POINTER)  # any file of the model, not only pickles
    _pickle_dump(4)({"thing": mymodels.Thing(1), "pad": list(range(5000))}, root / "cut.pkl")
    data = (root / "cut.pkl").read_bytes()
    (root / "cut.pkl").write_bytes(data[: len(data) // 2])
    (root / "empty.joblib").write_bytes(b"")
    (root / "notes.pkl").write_text("not a model\n", encoding="utf-8")

    found = model_needs(root, shown_as="model")

    by_file = {finding.message.split(" ", 1)[0].rstrip(":"): finding for finding in found.findings}
    names = {"x.pkl", "weights.onnx", "cut.pkl", "empty.joblib", "notes.pkl"}
    assert set(by_file) == {f"model/{name}" for name in names}
    lfs = by_file["model/x.pkl"]
    assert lfs.level == "error" and lfs.topic == "model"
    assert lfs.message.startswith(f"model/x.pkl is a Git LFS pointer ({len(LFS_POINTER)} bytes)")
    assert "not the model" in lfs.message and "git lfs pull" in lfs.message
    assert by_file["model/weights.onnx"].level == "error"
    for name, words in (("cut.pkl", "truncated"), ("empty.joblib", "empty"), ("notes.pkl", "text")):
        finding = by_file[f"model/{name}"]
        assert finding.level == "warning" and finding.topic == "model"
        assert words in finding.message
    assert Need(module="mymodels", where="model/cut.pkl") in found.needs  # what was read before the cut


def test_classes_from_main_are_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (root / "model.pkl").write_bytes(b"\x80\x04c__main__\nMyModel\n)\x81}b.")

    found = model_needs(root, shown_as="model")

    assert found.needs == []
    [finding] = found.findings
    assert finding.level == "warning" and "__main__" in finding.message and "model/model.pkl" in finding.message


def test_a_missing_model_folder(tmp_path: Path) -> None:
    found = model_needs(tmp_path / "nowhere", shown_as="model")

    assert found.needs == []
    assert [finding.level for finding in found.findings] == ["warning"]


# -- model_needs: MLflow models -----------------------------------------------------------------------

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.10.12
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.0
mlflow_version: 2.9.2
model_uuid: 0f3c0a4b2f7f4b8f9d3d0a6f2c7e5b11
utc_time_created: '2024-01-05 10:00:00.000000'
"""

REQUIREMENTS = """\
# written by mlflow
mlflow==2.9.2
cloudpickle==2.2.1
numpy>=1.24,<2
scikit-learn[alldeps]==1.3.0 ; python_version >= "3.8"
pandas
scipy==1.11.*
-r other-requirements.txt
--index-url https://pypi.example.org/simple
https://example.org/wheels/private-1.0-py3-none-any.whl
mypkg @ https://example.org/mypkg-1.0.tar.gz
./local_package
"""

CONDA = """\
channels:
- conda-forge
dependencies:
- python=3.9.18
- pip<=23.3.1
- pip:
  - mlflow==2.9.2
  - scikit-learn==1.2.2
name: mlflow-env
"""


def _write_mlflow(folder: Path, *, mlmodel: str = MLMODEL, requirements: bool = True) -> None:
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text(mlmodel, encoding="utf-8")
    (folder / "conda.yaml").write_text(CONDA, encoding="utf-8")
    if requirements:
        (folder / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    _pickle_dump(4)(LinearRegression(), folder / "model.pkl")


@pytest.mark.parametrize("nested", [False, True])
def test_mlflow_model(tmp_path: Path, nested: bool) -> None:
    root = tmp_path / "model"
    folder = root / "model" if nested else root  # AZUREML_MODEL_DIR/model/MLmodel
    _write_mlflow(folder)
    shown = "model/model" if nested else "model"

    found = model_needs(root, shown_as="model")

    assert found.findings == []
    assert found.python_version == "3.10.12"
    mlmodel, requirements = f"{shown}/MLmodel", f"{shown}/requirements.txt"
    assert Need(module="sklearn", where=mlmodel, distribution="scikit-learn", version="1.3.0") in found.needs
    assert Need(module=None, where=mlmodel, distribution="mlflow", version="2.9.2") in found.needs
    from_requirements = {(n.distribution, n.version) for n in found.needs if n.where == requirements}
    assert from_requirements == {
        ("mlflow", "2.9.2"),
        ("cloudpickle", "2.2.1"),
        ("numpy", None),
        ("scikit-learn", "1.3.0"),
        ("pandas", None),
        ("scipy", None),
        ("mypkg", None),
    }
    assert all(n.module is None for n in found.needs if n.where == requirements)
    assert not [n for n in found.needs if n.where == f"{shown}/conda.yaml"]  # requirements.txt says it
    assert Need(module="sklearn.linear_model._base", where=f"{shown}/model.pkl") in found.needs


def test_mlflow_model_without_requirements_or_python_version(tmp_path: Path) -> None:
    root = tmp_path / "model"
    _write_mlflow(root, mlmodel=MLMODEL.replace("    python_version: 3.10.12\n", ""), requirements=False)

    found = model_needs(root, shown_as="model")

    assert found.python_version == "3.9.18"
    from_conda = {(n.distribution, n.version) for n in found.needs if n.where == "model/conda.yaml"}
    assert from_conda == {("mlflow", "2.9.2"), ("scikit-learn", "1.2.2")}


def test_a_broken_mlmodel_is_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (root / "MLmodel").write_text("flavors: [unclosed\n", encoding="utf-8")

    found = model_needs(root, shown_as="model")

    assert found.needs == []
    assert [(f.level, f.message.split(" ", 1)[0]) for f in found.findings] == [("warning", "model/MLmodel")]


def test_findings_are_finding_objects(tmp_path: Path) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (root / "x.pkl").write_bytes(LFS_POINTER)

    [finding] = model_needs(root, shown_as="model").findings

    assert isinstance(finding, Finding)
    assert finding.as_dict()["level"] == "error"


def test_pickle_sniffing_needs_the_proto_opcode(tmp_path: Path) -> None:
    root = tmp_path / "model"
    root.mkdir()
    (root / "data.bin").write_bytes(struct.pack("<4d", 1, 2, 3, 4))  # not a pickle, not named like one
    (root / "model").write_bytes(pickle.dumps(LinearRegression(), protocol=2))

    found = model_needs(root, shown_as="model")

    assert {need.where for need in found.needs} == {"model/model"}
    assert found.findings == []
