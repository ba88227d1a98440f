"""The platform's numbers (shim.deploy.platform) and azure-ai-ml's verdict on a YAML (shim.deploy.aml_validation).

The deployment files are real files laid out as Microsoft's azureml-examples lays them out
(``cli/endpoints/online/managed/sample/blue-deployment.yml`` next to ``model-1/``, and the Kubernetes
one), read by the same azure-ai-ml loader ``az ml online-deployment create`` runs, installed in the test
environment (``score-shim[test]``).
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from shim.deploy import aml_validation
from shim.deploy.aml_validation import AmlValidation, validate_with_azure_ai_ml
from shim.deploy.findings import Finding
from shim.deploy.platform import (
    DEFAULT_PROBE,
    INSTANCE_MEMORY_GIB,
    Probe,
    RequestSettings,
    concurrency_findings,
    instance_memory_bytes,
    kubernetes_memory_bytes,
    memory_findings,
    probe_findings,
    probe_from,
    request_settings_from,
    startup_allowance_seconds,
)
from tests._deployments import BLUE_DEPLOYMENT, MODEL_1_CONDA

GIB = 1 << 30
MIB = 1 << 20


KUBERNETES_DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/kubernetesOnlineDeployment.schema.json
name: blue
type: kubernetes
endpoint_name: my-endpoint
model:
  path: ../model-1/model/
code_configuration:
  code: ../model-1/onlinescoring/
  scoring_script: score.py
environment:
  conda_file: ../model-1/environment/conda.yaml
  image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest
request_settings:
  request_timeout_ms: 3000
  max_queue_wait_ms: 3000
resources:
  requests:
    cpu: "0.1"
    memory: "0.1Gi"
  limits:
    cpu: "0.2"
    memory: "200Mi"
tags:
  tag1: deployment-tag1-value
instance_count: 1
scale_settings:
  type: default
"""


SCORE = """\
import os

def init():
    global model_path
    model_path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model/sklearn_regression_model.pkl")

def run(raw_data):
    return [0.0]
"""


@pytest.fixture
def online(tmp_path: Path) -> Path:
    """``cli/endpoints/online`` of azureml-examples: model-1 and the two sample deployments."""
    root = tmp_path / "online"
    (root / "model-1" / "model").mkdir(parents=True)
    (root / "model-1" / "model" / "sklearn_regression_model.pkl").write_bytes(b"\x80\x04K\x01.")
    (root / "model-1" / "onlinescoring").mkdir()
    (root / "model-1" / "onlinescoring" / "score.py").write_text(SCORE)
    (root / "model-1" / "environment").mkdir()
    (root / "model-1" / "environment" / "conda.yaml").write_text(MODEL_1_CONDA)
    (root / "managed" / "sample").mkdir(parents=True)
    (root / "managed" / "sample" / "blue-deployment.yml").write_text(BLUE_DEPLOYMENT)
    (root / "kubernetes").mkdir()
    (root / "kubernetes" / "kubernetes-blue-deployment.yml").write_text(KUBERNETES_DEPLOYMENT)
    return root


def managed_variant(online: Path, text: str, name: str = "variant.yml") -> Path:
    path = online / "managed" / "sample" / name
    path.write_text(text)
    return path


def messages(findings: list[Finding], level: str | None = None) -> list[str]:
    return [finding.message for finding in findings if level is None or finding.level == level]


# --- SKUs ---------------------------------------------------------------------------------------------


def test_sku_memory_is_looked_up_whatever_the_case() -> None:
    assert instance_memory_bytes("Standard_DS3_v2") == 14 * GIB
    assert instance_memory_bytes("STANDARD_DS3_V2") == 14 * GIB  # as the SKU list writes it
    assert instance_memory_bytes(" standard_ds1_v2 ") == int(3.5 * GIB)
    assert instance_memory_bytes("Standard_NC24ads_A100_v4") == 220 * GIB
    assert instance_memory_bytes("Standard_E64s_v3") == 432 * GIB  # not 8 GiB per vCPU like the others


def test_an_unknown_sku_has_no_memory() -> None:
    assert instance_memory_bytes("Standard_DS3_v9") is None
    assert instance_memory_bytes("defaultinstancetype") is None  # a Kubernetes instance type
    assert instance_memory_bytes("") is None


def test_every_sku_is_a_full_azure_size_name() -> None:
    assert all(re.fullmatch(r"Standard_[A-Z]+\d+[a-z]*(_[A-Za-z0-9]+)*_v\d", name) for name in INSTANCE_MEMORY_GIB)
    assert len({name.lower() for name in INSTANCE_MEMORY_GIB}) == len(INSTANCE_MEMORY_GIB)


# --- Kubernetes quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("200Mi", 200 * MIB),
        ("0.5Gi", GIB // 2),
        ("1G", 10**9),
        ("512M", 512 * 10**6),
        ("1e9", 10**9),
        ("128974848", 128974848),
        ("129e6", 129 * 10**6),
        ("123Mi", 123 * MIB),
        ("1Ki", 1024),
        ("1Ti", 1 << 40),
        ("1k", 1000),
        ("1E", 10**18),  # exa, not an exponent
        ("1.5E3", 1500),
        (".5Ki", 512),
        ("+1Mi", MIB),
        ("100m", 1),  # 0.1 byte, rounded up as Kubernetes' Quantity.Value() does
        ("1500m", 2),
        (" 64Mi ", 64 * MIB),
        (128974848, 128974848),
        (1e9, 10**9),
        (0, 0),
    ],
)
def test_kubernetes_quantities(quantity: str | int | float, expected: int) -> None:
    assert kubernetes_memory_bytes(quantity) == expected


@pytest.mark.parametrize(
    "quantity",
    ["", "abc", "Gi", "1Gb", "1K", "1gi", "1e", "1.2.3", "-1Gi", "1 Gi", "1e999999999", -5, float("nan"), True],
)
def test_bad_kubernetes_quantities(quantity: Any) -> None:
    assert kubernetes_memory_bytes(quantity) is None


def test_the_kubernetes_sample_limit(online: Path) -> None:
    data = yaml.safe_load((online / "kubernetes" / "kubernetes-blue-deployment.yml").read_text())
    assert kubernetes_memory_bytes(data["resources"]["limits"]["memory"]) == 200 * MIB
    assert kubernetes_memory_bytes(data["resources"]["requests"]["memory"]) == round(0.1 * GIB + 0.5)


# --- request settings and probes ----------------------------------------------------------------------


def test_defaults_of_the_sample_deployment(online: Path) -> None:
    data = yaml.safe_load((online / "managed" / "sample" / "blue-deployment.yml").read_text())
    settings, found = request_settings_from(data.get("request_settings"))
    assert settings == RequestSettings(5000, 1, None)
    assert found == []
    for kind in ("liveness", "readiness"):
        probe, found = probe_from(data.get(f"{kind}_probe"), kind)
        assert probe == DEFAULT_PROBE == Probe(10, 10, 2, 1, 30)
        assert found == []


def test_kubernetes_request_settings(online: Path) -> None:
    data = yaml.safe_load((online / "kubernetes" / "kubernetes-blue-deployment.yml").read_text())
    settings, found = request_settings_from(data["request_settings"], kind="kubernetes")
    assert settings == RequestSettings(3000, 1, 3000)
    assert found == []
    defaults, _ = request_settings_from(None, kind="kubernetes")
    assert defaults.max_queue_wait_ms == 500  # a live setting on Kubernetes, deprecated on managed endpoints


def test_values_the_loader_accepts_are_read_as_it_reads_them() -> None:
    settings, found = request_settings_from({"request_timeout_ms": "9000", "max_concurrent_requests_per_instance": 2.0})
    assert settings == RequestSettings(9000, 2, None)
    assert found == []
    settings, found = request_settings_from({"request_timeout_ms": 1500.5})
    assert settings.request_timeout_ms == 1500
    assert [f.level for f in found] == ["warning"]
    assert "request_settings.request_timeout_ms" in found[0].message


@pytest.mark.parametrize("value", ["abc", True, -1, [5000]])
def test_a_bad_request_timeout_is_an_error_naming_the_key(value: object) -> None:
    settings, found = request_settings_from({"request_timeout_ms": value})
    assert settings.request_timeout_ms == 5000
    assert len(found) == 1
    assert found[0].level == "error"
    assert found[0].message.startswith("request_settings.request_timeout_ms")


def test_a_request_timeout_above_the_managed_maximum() -> None:
    settings, found = request_settings_from({"request_timeout_ms": 200_000})
    assert settings.request_timeout_ms == 200_000
    assert [f.level for f in found] == ["error"]
    assert "180000" in found[0].message
    assert found[0].fix == "request_timeout_ms: 180000"
    assert request_settings_from({"request_timeout_ms": 180_000})[1] == []
    assert request_settings_from({"request_timeout_ms": 200_000}, kind="kubernetes")[1] == []  # no documented max


def test_max_queue_wait_is_deprecated_on_managed_endpoints() -> None:
    settings, found = request_settings_from({"max_queue_wait_ms": 1000})
    assert settings.max_queue_wait_ms == 1000
    assert [f.level for f in found] == ["note"]
    assert "deprecated" in found[0].message


def test_request_settings_that_are_not_a_mapping() -> None:
    settings, found = request_settings_from(["request_timeout_ms", 9000])  # type: ignore[arg-type]
    assert settings == RequestSettings(5000, 1, None)
    assert [f.level for f in found] == ["error"]
    assert found[0].message.startswith("request_settings must be a mapping")


def test_bad_probe_values() -> None:
    probe, found = probe_from(
        {"initial_delay": -5, "period": "ten", "timeout": 0, "failure_threshold": 60}, "readiness"
    )
    assert probe == Probe(initial_delay=10, period=10, timeout=0, success_threshold=1, failure_threshold=60)
    assert {(f.level, f.message.split(" ")[0]) for f in found} == {
        ("error", "readiness_probe.initial_delay"),
        ("error", "readiness_probe.period"),
        ("warning", "readiness_probe.timeout"),  # below the documented minimum of 1
    }


def test_the_liveness_success_threshold_is_fixed_at_one() -> None:
    probe, found = probe_from({"success_threshold": 3}, "liveness")
    assert probe.success_threshold == 1
    assert [f.level for f in found] == ["warning"]
    assert "liveness_probe.success_threshold" in found[0].message
    assert probe_from({"success_threshold": 3}, "readiness") == (Probe(10, 10, 2, 3, 30), [])


# --- start-up ------------------------------------------------------------------------------------------


def test_startup_allowance() -> None:
    assert startup_allowance_seconds(DEFAULT_PROBE) == 310.0  # 10 + 10 x 30
    assert startup_allowance_seconds(Probe(5, 3, 2, 1, 4)) == 17.0
    assert startup_allowance_seconds(Probe(120, 10, 2, 1, 1)) == 130.0


def test_a_start_up_longer_than_the_probes_allow() -> None:
    found = probe_findings(DEFAULT_PROBE, DEFAULT_PROBE, init_seconds=400)
    assert [f.level for f in found] == ["warning", "warning"]
    assert "liveness_probe.failure_threshold" in found[0].message
    assert "310 s" in found[0].message
    assert "crash loop" in found[0].message
    assert found[0].fix == "liveness_probe.failure_threshold: 79"  # (2 x 400 - 10) / 10
    assert "readiness_probe.failure_threshold" in found[1].message
    assert found[1].fix == "readiness_probe.failure_threshold: 79"


def test_only_the_probe_that_is_too_short_is_named() -> None:
    patient = Probe(initial_delay=600, period=10, timeout=2, success_threshold=1, failure_threshold=30)
    found = probe_findings(patient, DEFAULT_PROBE, init_seconds=400)
    assert len(found) == 1
    assert found[0].message.count("readiness_probe.") >= 2
    assert "liveness_probe" not in found[0].message


def test_more_than_half_of_the_allowance_is_a_note() -> None:
    found = probe_findings(DEFAULT_PROBE, DEFAULT_PROBE, init_seconds=200)
    assert [f.level for f in found] == ["note", "note"]
    assert probe_findings(DEFAULT_PROBE, DEFAULT_PROBE, init_seconds=100) == []


def test_a_probe_without_a_period_suggests_an_initial_delay() -> None:
    found = probe_findings(Probe(10, 0, 2, 1, 30), DEFAULT_PROBE, init_seconds=20)
    assert found[0].fix == "liveness_probe.initial_delay: 40"


# --- concurrency ---------------------------------------------------------------------------------------

DEFAULT_SETTINGS = RequestSettings(5000, 1, None)


def test_a_run_that_fits_the_timeout() -> None:
    assert concurrency_findings(DEFAULT_SETTINGS, workers=1, run_ms=100) == []
    assert concurrency_findings(DEFAULT_SETTINGS, workers=1, run_ms=None) == []


def test_a_run_longer_than_the_timeout() -> None:
    found = concurrency_findings(DEFAULT_SETTINGS, workers=1, run_ms=6000)
    assert [f.level for f in found] == ["warning"]
    assert "request_settings.request_timeout_ms (5000)" in found[0].message
    assert "408" in found[0].message and "504" in found[0].message
    assert found[0].fix == "request_timeout_ms: 12000"
    slow = concurrency_findings(DEFAULT_SETTINGS, workers=1, run_ms=150_000)
    assert slow[0].fix == "request_timeout_ms: 180000"


def test_requests_queued_behind_too_few_workers_time_out() -> None:
    settings = RequestSettings(5000, 4, None)
    found = concurrency_findings(settings, workers=1, run_ms=2000)
    assert [f.level for f in found] == ["warning"]
    message = found[0].message
    assert "waits 6000 ms" in message and "8000 ms in all" in message  # 3 runs before its own
    assert "408" in message
    assert found[0].fix == 'WORKER_COUNT: "4"'


def test_queueing_within_the_timeout_is_a_note() -> None:
    settings = RequestSettings(5000, 4, None)
    assert [f.level for f in concurrency_findings(settings, workers=1, run_ms=1000)] == ["note"]
    # Three workers for four requests: the last waits one run, not a third of one.
    found = concurrency_findings(settings, workers=3, run_ms=2000)
    assert [f.level for f in found] == ["note"]
    assert "waits 2000 ms" in found[0].message
    assert concurrency_findings(settings, workers=4, run_ms=4000) == []
    assert [f.level for f in concurrency_findings(settings, workers=0, run_ms=None)] == ["note"]


# --- memory --------------------------------------------------------------------------------------------


def test_workers_that_outgrow_the_instance() -> None:
    found = memory_findings("Standard_DS3_v2", None, 4 * GIB, workers=4)
    assert [f.level for f in found] == ["warning"]
    assert "16.0 GiB" in found[0].message and "14.0 GiB" in found[0].message
    assert "SIGKILL" in found[0].message and "137" in found[0].message
    assert "Standard_DS3_v2" in found[0].message


def test_the_ninety_percent_margin() -> None:
    assert memory_findings("Standard_DS3_v2", None, 4 * GIB, workers=3) == []  # 12 of 14 GiB
    found = memory_findings("Standard_DS3_v2", None, int(3.3 * GIB), workers=4)  # 13.2 of 14 GiB
    assert [f.level for f in found] == ["warning"]
    assert "over 90% of" in found[0].message


def test_an_unknown_instance_is_skipped_with_a_note() -> None:
    found = memory_findings("Standard_XYZ_v9", None, 4 * GIB, workers=1)
    assert [f.level for f in found] == ["note"]
    assert "Standard_XYZ_v9" in found[0].message and "skips" in found[0].message
    assert memory_findings(None, None, 4 * GIB, workers=1) == []
    assert memory_findings("Standard_DS3_v2", None, None, workers=1) == []


def test_the_kubernetes_limit() -> None:
    found = memory_findings("defaultinstancetype", 200 * MIB, 300 * MIB, workers=1)
    assert [f.level for f in found] == ["warning"]
    assert "resources.limits.memory" in found[0].message
    # The smaller of the two applies; the SKU's own memory passed as a limit is named as the SKU.
    assert "resources.limits.memory" in memory_findings("Standard_DS3_v2", GIB, 2 * GIB, workers=1)[0].message
    same = memory_findings("Standard_DS3_v2", 14 * GIB, 15 * GIB, workers=1)
    assert "instance_type Standard_DS3_v2" in same[0].message


# --- azure-ai-ml's loader ------------------------------------------------------------------------------


@pytest.fixture
def aml() -> Any:
    """azure-ai-ml, the optional extra (``score-shim[aml]``); the test environment has it."""
    return pytest.importorskip("azure.ai.ml")


def validate(path: Path) -> AmlValidation:
    result = validate_with_azure_ai_ml(path)
    assert result is not None
    return result


def test_a_valid_deployment(aml: Any, online: Path) -> None:
    result = validate(online / "managed" / "sample" / "blue-deployment.yml")
    assert result.findings == []
    assert result.kind == "managed"
    assert result.model_name is not None and re.fullmatch(r"[0-9a-f]{64}", result.model_name)
    assert result.model_version == "1"
    assert result.seconds is not None and result.seconds > 0


def test_the_anonymous_model_is_named_by_its_content(aml: Any, online: Path) -> None:
    managed = validate(online / "managed" / "sample" / "blue-deployment.yml")
    kubernetes = validate(online / "kubernetes" / "kubernetes-blue-deployment.yml")
    assert kubernetes.model_name == managed.model_name  # the same model-1/model folder
    (online / "model-1" / "model" / "sklearn_regression_model.pkl").write_bytes(b"\x80\x04K\x02.")
    assert validate(online / "managed" / "sample" / "blue-deployment.yml").model_name != managed.model_name


def test_a_named_model_keeps_its_name(aml: Any, online: Path) -> None:
    text = BLUE_DEPLOYMENT.replace("model:\n", "model:\n  name: my-model\n  version: 3\n")
    result = validate(managed_variant(online, text))
    assert (result.model_name, result.model_version) == ("my-model", "3")
    reference = re.sub(r"model:\n  path: .*\n", "model: azureml:my-model:1\n", BLUE_DEPLOYMENT)
    assert "azureml:my-model:1" in reference
    registered = validate(managed_variant(online, reference))
    assert registered.findings == []
    assert (registered.model_name, registered.model_version) == (None, None)


def test_a_kubernetes_deployment(aml: Any, online: Path) -> None:
    result = validate(online / "kubernetes" / "kubernetes-blue-deployment.yml")
    assert result.findings == []
    assert result.kind == "kubernetes"
    assert result.model_version == "1"


def test_a_misspelt_key(aml: Any, online: Path) -> None:
    text = BLUE_DEPLOYMENT + 'enviroment_variables:\n  WORKER_COUNT: "2"\n'
    result = validate(managed_variant(online, text))
    assert result.findings == [
        Finding(
            "warning",
            "yaml",
            "enviroment_variables: az ml online-deployment create refuses unknown keys "
            "(did you mean environment_variables?)",
            fix="environment_variables",
        )
    ]
    assert result.kind == "managed"
    assert result.model_name is None


def test_misspelt_nested_keys(aml: Any, online: Path) -> None:
    text = BLUE_DEPLOYMENT.replace("  scoring_script: score.py", "  scoring_script: score.py\n  scoring_scirpt: x")
    text = text.replace("  path: ../../model-1/model/", "  path: ../../model-1/model/\n  flavour: x")
    text += "request_settings:\n  request_timout_ms: 9000\n"
    found = validate(managed_variant(online, text)).findings
    assert sorted(messages(found, "warning")) == [
        "code_configuration.scoring_scirpt: az ml online-deployment create refuses unknown keys "
        "(did you mean scoring_script?)",
        "model.flavour: az ml online-deployment create refuses unknown keys (did you mean flavors?)",
        "request_settings.request_timout_ms: az ml online-deployment create refuses unknown keys "
        "(did you mean request_timeout_ms?)",
    ]  # and not the model union's other alternatives ("to specify an existing model...")


@pytest.mark.parametrize("key", ["name", "endpoint_name", "instance_type"])
def test_a_missing_required_key(aml: Any, online: Path, key: str) -> None:
    text = "".join(line for line in BLUE_DEPLOYMENT.splitlines(keepends=True) if not line.startswith(f"{key}:"))
    result = validate(managed_variant(online, text))
    assert [(f.level, f.message.split(":")[0]) for f in result.findings] == [("error", key)]
    assert "requires" in result.findings[0].message


def test_keys_the_loader_does_not_require(aml: Any, online: Path) -> None:
    # The YAML reference calls environment and instance_count required; azure-ai-ml's loader does not.
    for key in ("instance_count", "environment"):
        lines = BLUE_DEPLOYMENT.splitlines(keepends=True)
        if key == "environment":
            lines = [line for line in lines if not line.startswith(("environment", "  conda_file", "  image"))]
        else:
            lines = [line for line in lines if not line.startswith(f"{key}:")]
        assert validate(managed_variant(online, "".join(lines))).findings == []
    # A Kubernetes deployment needs no instance_type.
    text = KUBERNETES_DEPLOYMENT.replace("name: blue\n", "name: blue\ninstance_type: defaultinstancetype\n", 1)
    assert validate(managed_variant(online, text.replace("../model-1/", "../../model-1/"))).kind == "kubernetes"


def test_a_missing_name_in_a_kubernetes_deployment(aml: Any, online: Path) -> None:
    path = online / "kubernetes" / "no-name.yml"
    path.write_text(KUBERNETES_DEPLOYMENT.replace("name: blue\n", "", 1))
    result = validate(path)
    assert result.kind == "kubernetes"
    assert [(f.level, f.message.split(":")[0]) for f in result.findings] == [("error", "name")]


def test_a_model_path_that_does_not_exist(aml: Any, online: Path) -> None:
    found = validate(managed_variant(online, BLUE_DEPLOYMENT.replace("model-1/model/", "model-1/nope/"))).findings
    assert [f.level for f in found] == ["warning"]
    assert found[0].message.startswith("model: azure-ai-ml's loader")
    assert "No such file or directory" in found[0].message and "model-1/nope" in found[0].message
    assert "\n" not in found[0].message and " with open(" not in found[0].message


def test_other_objections_are_one_line_warnings(aml: Any, online: Path) -> None:
    text = BLUE_DEPLOYMENT + "type: kubernets\nrequest_settings:\n  request_timeout_ms: abc\n"
    found = validate(managed_variant(online, text)).findings
    assert [f.level for f in found] == ["warning", "warning"]
    assert {f.message.split(":")[0] for f in found} == {"type", "request_settings.request_timeout_ms"}
    assert all("\n" not in f.message for f in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("name: [unclosed\n", "Error while parsing yaml file"), ("- a\n- b\n", "Expect dict")],
)
def test_a_file_the_loader_cannot_read(aml: Any, online: Path, text: str, expected: str) -> None:
    result = validate(managed_variant(online, text))
    assert [f.level for f in result.findings] == ["warning"]
    assert expected in result.findings[0].message
    assert "\n" not in result.findings[0].message
    assert result.kind is None


def test_a_missing_file(aml: Any, tmp_path: Path) -> None:
    result = validate(tmp_path / "missing.yml")
    assert [f.level for f in result.findings] == ["warning"]
    assert "No such file or directory" in result.findings[0].message


def test_an_unexpected_failure_is_a_warning(aml: Any, online: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("something inside azure-ai-ml\nbroke")

    monkeypatch.setattr(aml, "load_online_deployment", broken)
    result = validate(online / "managed" / "sample" / "blue-deployment.yml")
    assert result.findings == [
        Finding(
            "warning",
            "yaml",
            "validation with azure-ai-ml could not run: RuntimeError: something inside azure-ai-ml broke",
        )
    ]
    assert (result.model_name, result.kind) == (None, None)


def test_the_loader_is_silent(aml: Any, online: Path, capfd: pytest.CaptureFixture[str]) -> None:
    logging.disable(logging.NOTSET)
    filters = list(warnings.filters)
    typo = managed_variant(online, BLUE_DEPLOYMENT + "enviroment_variables: {}\n")
    for path in (online / "managed" / "sample" / "blue-deployment.yml", typo):
        validate(path)
    assert capfd.readouterr() == ("", "")
    assert logging.root.manager.disable == logging.NOTSET  # logging is back on
    assert warnings.filters == filters


def test_without_azure_ai_ml(monkeypatch: pytest.MonkeyPatch, online: Path) -> None:
    monkeypatch.setattr(aml_validation, "_installed", lambda: False)
    assert validate_with_azure_ai_ml(online / "managed" / "sample" / "blue-deployment.yml") is None


def test_find_spec_without_the_azure_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    def no_azure(name: str) -> None:
        raise ModuleNotFoundError("No module named 'azure'")

    monkeypatch.setattr(importlib.util, "find_spec", no_azure)
    assert aml_validation._installed() is False


def test_importing_the_modules_does_not_import_azure_ai_ml() -> None:
    code = "import sys, shim.deploy.aml_validation, shim.deploy.platform; print('azure.ai.ml' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
