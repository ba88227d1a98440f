"""The platform's numbers, each with the page that documents it, and what they mean for a deployment.

A rehearsal on a laptop measures how long ``init()`` takes, how long one ``run()`` takes and how much memory
a worker uses; whether that is fine depends on numbers the platform applies and the user never sees
locally: the probes' patience, the request timeout, how many requests the platform sends at once, the
instance's memory. They live here, as data with their sources, so that every finding can quote the key to
change and the figure it was compared with.

Sources (each figure below cites the one it comes from):

- YAML references, defaults and limits of ``request_settings`` and the probes:
  https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online and
  https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-kubernetes-online
  (azure-ai-ml's ``OnlineRequestSettings`` and ``ProbeSettings`` docstrings say the same defaults; its
  schema has none, so an absent key is sent absent and the service applies them).
- HTTP status codes: https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints
- SKUs and their memory: https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list
  and the Azure VM size pages cited on each series.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from .findings import Finding

YAML_MANAGED = "https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-managed-online"
YAML_KUBERNETES = "https://learn.microsoft.com/azure/machine-learning/reference-yaml-deployment-kubernetes-online"
TROUBLESHOOTING = "https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints"

# Memory of the VM sizes a managed online endpoint accepts, in GiB (2**30 bytes). Only SKUs that are on
# https://learn.microsoft.com/azure/machine-learning/reference-managed-online-endpoints-vm-sku-list
# and whose memory was read on the VM size page cited above each series. (Some of those pages head the
# column "Memory (GB)"; the series' older pages, e.g. /azure/virtual-machines/dv2-dsv2-series and
# /azure/virtual-machines/fsv2-series, give the same figures as "Memory: GiB".)
INSTANCE_MEMORY_GIB: dict[str, float] = {
    # https://learn.microsoft.com/azure/virtual-machines/sizes/general-purpose/dsv2-series
    "Standard_DS1_v2": 3.5,
    "Standard_DS2_v2": 7,
    "Standard_DS3_v2": 14,
    "Standard_DS4_v2": 28,
    "Standard_DS5_v2": 56,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/compute-optimized/fsv2-series
    "Standard_F2s_v2": 4,
    "Standard_F4s_v2": 8,
    "Standard_F8s_v2": 16,
    "Standard_F16s_v2": 32,
    "Standard_F32s_v2": 64,
    "Standard_F48s_v2": 96,
    "Standard_F64s_v2": 128,
    "Standard_F72s_v2": 144,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/general-purpose/dasv4-series
    "Standard_D2as_v4": 8,
    "Standard_D4as_v4": 16,
    "Standard_D8as_v4": 32,
    "Standard_D16as_v4": 64,
    "Standard_D32as_v4": 128,
    "Standard_D48as_v4": 192,
    "Standard_D64as_v4": 256,
    "Standard_D96as_v4": 384,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/memory-optimized/ev3-esv3-series
    # (E64s_v3 has 432 GiB, not 8 GiB per vCPU like the rest of the series.)
    "Standard_E2s_v3": 16,
    "Standard_E4s_v3": 32,
    "Standard_E8s_v3": 64,
    "Standard_E16s_v3": 128,
    "Standard_E32s_v3": 256,
    "Standard_E48s_v3": 384,
    "Standard_E64s_v3": 432,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/ncv3-series
    "Standard_NC6s_v3": 112,
    "Standard_NC12s_v3": 224,
    "Standard_NC24s_v3": 448,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/ncast4v3-series
    "Standard_NC4as_T4_v3": 28,
    "Standard_NC8as_T4_v3": 56,
    "Standard_NC16as_T4_v3": 110,
    "Standard_NC64as_T4_v3": 440,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nca100v4-series
    "Standard_NC24ads_A100_v4": 220,
    "Standard_NC48ads_A100_v4": 440,
    "Standard_NC96ads_A100_v4": 880,
    # https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/ndasra100v4-series
    "Standard_ND96asr_v4": 900,
}
# The SKU list writes names in capitals (STANDARD_DS3_V2), the examples in mixed case: both are accepted.
_MEMORY_BY_LOWER_NAME = {name.lower(): gib for name, gib in INSTANCE_MEMORY_GIB.items()}

# Defaults and limits of request_settings, from the YAML references (RequestSettings tables).
DEFAULT_REQUEST_TIMEOUT_MS = 5000
DEFAULT_MAX_CONCURRENT_REQUESTS_PER_INSTANCE = 1
DEFAULT_MAX_QUEUE_WAIT_MS = 500  # deprecated for managed endpoints; still a setting on Kubernetes
# Managed only: "the maximum value allowed is 180000 milliseconds" (YAML_MANAGED). The Kubernetes
# reference documents no maximum.
MAX_REQUEST_TIMEOUT_MS_MANAGED = 180_000

#: A worker using more than this share of the instance's (or the limit's) memory is warned about: the
#: VM's own processes use some of it, and a peak measured here is not the peak of every request there.
MEMORY_WARN_FRACTION = 0.9

_GIB = 1 << 30


@dataclass(frozen=True)
class RequestSettings:
    """The deployment's ``request_settings`` with the platform's defaults applied.

    ``max_queue_wait_ms`` is None on a managed deployment that does not set it: the setting is deprecated
    there ("increase request_timeout_ms to account for any networking/queue delays", YAML_MANAGED).
    """

    request_timeout_ms: int
    max_concurrent_requests_per_instance: int
    max_queue_wait_ms: int | None


@dataclass(frozen=True)
class Probe:
    """A liveness or readiness probe, in seconds (counts for the thresholds), defaults applied."""

    initial_delay: int
    period: int
    timeout: int
    success_threshold: int
    failure_threshold: int


# The ProbeSettings tables of both YAML references: the same defaults for liveness and readiness, for
# managed and Kubernetes deployments.
DEFAULT_PROBE = Probe(initial_delay=10, period=10, timeout=2, success_threshold=1, failure_threshold=30)
# "Minimum value is 1" for initial_delay, timeout and the thresholds (both references); none is written
# for period, but Kubernetes refuses a periodSeconds below 1.
_PROBE_MINIMUM = 1


def instance_memory_bytes(instance_type: str) -> int | None:
    """The memory of a managed SKU (``Standard_DS3_v2``, any case), or None for a size not listed here."""
    gib = _MEMORY_BY_LOWER_NAME.get(instance_type.strip().lower())
    return None if gib is None else round(gib * _GIB)


# https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/ : a signed decimal
# number, then a binary suffix (Ki..Ei), a decimal one (m, k, M..E) or an exponent (e3, E-2).
_QUANTITY = re.compile(r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE](?P<exponent>[+-]?\d+)|(?P<suffix>[a-zA-Z]*))")
_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_DECIMAL = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# Beyond any memory, and a bound on the work a hostile exponent (1e999999999) could cost.
_MAX_EXPONENT = 30


def kubernetes_memory_bytes(quantity: str | int | float) -> int | None:
    """A Kubernetes memory quantity (``resources.limits.memory``) in bytes, or None when it is not one.

    ``200Mi``, ``0.5Gi``, ``1G``, ``512M``, ``1e9``, ``129e6``, ``128974848``, ``1Ki``, ``1Ti``; ``100m``
    is 0.1 byte. Fractions of a byte round up, as Kubernetes' ``Quantity.Value()`` does. A negative
    quantity is no memory limit: None.
    """
    if isinstance(quantity, bool):
        return None
    if isinstance(quantity, int):
        return quantity if quantity >= 0 else None
    if isinstance(quantity, float):
        if not math.isfinite(quantity) or quantity < 0:
            return None
        return math.ceil(Fraction(quantity))
    return _parse_quantity(quantity.strip())


def _parse_quantity(text: str) -> int | None:
    match = _QUANTITY.fullmatch(text)
    if match is None:
        return None
    try:
        number = Fraction(Decimal(match["number"]))
    except (InvalidOperation, ValueError):
        return None
    if match["exponent"] is not None:
        exponent = int(match["exponent"])
        if abs(exponent) > _MAX_EXPONENT:
            return None
        value = number * Fraction(10) ** exponent
    elif match["suffix"] in _BINARY:
        value = number * _BINARY[match["suffix"]]
    elif match["suffix"] in _DECIMAL:
        value = number * Fraction(10) ** _DECIMAL[match["suffix"]]
    else:
        return None
    return math.ceil(value) if value >= 0 else None


def request_settings_from(
    yaml_mapping: Mapping[str, Any] | None, *, kind: str = "managed"
) -> tuple[RequestSettings, list[Finding]]:
    """``request_settings`` as the platform will apply it, and what is wrong with what the YAML says.

    A value azure-ai-ml's loader refuses (not a whole number) or one that makes no sense (negative) is
    an error and the default is used; a managed timeout above the documented maximum is an error too.
    ``kind`` is ``managed`` or ``kubernetes``: they differ in the maximum and in ``max_queue_wait_ms``.
    """
    section = "request_settings"
    mapping, findings = _section(yaml_mapping, section)
    timeout, found = _whole_number(mapping, section, "request_timeout_ms", DEFAULT_REQUEST_TIMEOUT_MS, "settings")
    findings += found
    if kind != "kubernetes" and timeout > MAX_REQUEST_TIMEOUT_MS_MANAGED:
        findings.append(_timeout_above_maximum(timeout))
    concurrent, found = _whole_number(
        mapping,
        section,
        "max_concurrent_requests_per_instance",
        DEFAULT_MAX_CONCURRENT_REQUESTS_PER_INSTANCE,
        "settings",
    )
    findings += found
    if kind == "kubernetes" and concurrent != DEFAULT_MAX_CONCURRENT_REQUESTS_PER_INSTANCE:
        findings.append(_kubernetes_concurrency_note(concurrent))
    queue_wait, found = _queue_wait(mapping, kind)
    findings += found
    return RequestSettings(timeout, concurrent, queue_wait), findings


def _queue_wait(mapping: Mapping[str, Any], kind: str) -> tuple[int | None, list[Finding]]:
    """``max_queue_wait_ms``: a live setting on Kubernetes (default 500), deprecated on managed endpoints."""
    if kind == "kubernetes":
        return _whole_number(mapping, "request_settings", "max_queue_wait_ms", DEFAULT_MAX_QUEUE_WAIT_MS, "settings", 0)
    if mapping.get("max_queue_wait_ms") is None:
        return None, []
    value, findings = _whole_number(
        mapping, "request_settings", "max_queue_wait_ms", DEFAULT_MAX_QUEUE_WAIT_MS, "settings", 0
    )
    findings.append(
        Finding(
            "note",
            "settings",
            "request_settings.max_queue_wait_ms is deprecated for managed online endpoints: raise "
            f"request_settings.request_timeout_ms to allow for queueing instead ({YAML_MANAGED}).",
        )
    )
    return value, findings


def _timeout_above_maximum(timeout: int) -> Finding:
    return Finding(
        "error",
        "settings",
        f"request_settings.request_timeout_ms is {timeout}, above the {MAX_REQUEST_TIMEOUT_MS_MANAGED} ms a managed "
        f"online deployment allows ({YAML_MANAGED}). Speed up run() or lower the value.",
        fix=f"request_timeout_ms: {MAX_REQUEST_TIMEOUT_MS_MANAGED}",
    )


def _kubernetes_concurrency_note(concurrent: int) -> Finding:
    return Finding(
        "note",
        "settings",
        f"request_settings.max_concurrent_requests_per_instance is {concurrent}; the Kubernetes reference asks "
        f"to keep the default (1) unless Microsoft support says otherwise ({YAML_KUBERNETES}).",
    )


def probe_from(
    yaml_mapping: Mapping[str, Any] | None, kind: Literal["liveness", "readiness"]
) -> tuple[Probe, list[Finding]]:
    """``liveness_probe`` or ``readiness_probe`` with the defaults applied, and what is wrong with it.

    A value that is not a whole number or is negative is an error (the default is used); zero where the
    documented minimum is 1 is a warning. The liveness probe's ``success_threshold`` is fixed at 1
    (YAML_MANAGED; Kubernetes refuses any other value), so another value is a warning and 1 is used.
    """
    section = f"{kind}_probe"
    mapping, findings = _section(yaml_mapping, section)
    values: dict[str, int] = {}
    for key in ("initial_delay", "period", "timeout", "success_threshold", "failure_threshold"):
        default = getattr(DEFAULT_PROBE, key)
        values[key], found = _whole_number(mapping, section, key, default, "probe", _PROBE_MINIMUM)
        findings += found
    if kind == "liveness" and values["success_threshold"] != 1:
        findings.append(
            Finding(
                "warning",
                "probe",
                f"liveness_probe.success_threshold is {values['success_threshold']}, but it is fixed at 1 for a "
                f"liveness probe ({YAML_MANAGED}); remove it.",
            )
        )
        values["success_threshold"] = 1
    return Probe(**values), findings


def _section(yaml_mapping: Mapping[str, Any] | None, section: str) -> tuple[Mapping[str, Any], list[Finding]]:
    """The settings under ``section``, or an empty mapping and an error when it is not a mapping."""
    if yaml_mapping is None:
        return {}, []
    if isinstance(yaml_mapping, Mapping):
        return yaml_mapping, []
    return {}, [
        Finding(
            "error",
            "yaml",
            f"{section} must be a mapping of settings (key: value), not {type(yaml_mapping).__name__}; "
            "the rehearsal uses the platform's defaults.",
        )
    ]


def _whole_number(
    mapping: Mapping[str, Any], section: str, key: str, default: int, topic: str, minimum: int = 1
) -> tuple[int, list[Finding]]:
    """The value of ``section.key`` as the loader reads it (``"500"`` and ``2.0`` are whole numbers).

    azure-ai-ml reads these with marshmallow's ``Integer``: it refuses ``true`` and ``"abc"`` and silently
    truncates ``1.5`` to 1, so the first are errors and the last a warning.
    """
    raw = mapping.get(key)
    if raw is None:
        return default, []
    name = f"{section}.{key}"
    value = _as_int(raw)
    if value is None:
        return default, [_not_whole(name, raw, default)]
    findings: list[Finding] = []
    if isinstance(raw, float) and raw != value:
        findings.append(
            Finding("warning", topic, f"{name} is {raw}, not a whole number: azure-ai-ml reads it as {value}.")
        )
    if value < 0:
        return default, [
            *findings,
            Finding(
                "error", topic, f"{name} is {value}, a negative number; the rehearsal uses the default, {default}."
            ),
        ]
    if value < minimum:
        findings.append(Finding("warning", topic, f"{name} is {value}, below the documented minimum of {minimum}."))
    return value, findings


def _as_int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if math.isfinite(raw) else None
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None


def _not_whole(name: str, raw: object, default: int) -> Finding:
    return Finding(
        "error",
        "yaml",
        f"{name} is {raw!r}, not a whole number: az ml online-deployment create refuses it "
        f"('Not a valid integer.'). The rehearsal uses the default, {default}.",
    )


def startup_allowance_seconds(probe: Probe) -> float:
    """How long a container may take to start before the probe gives up on it, in seconds.

    The inference server answers the probe's ``GET /`` only once a worker has finished ``init()``
    (azmlinfsrv calls ``init()`` while it builds the app, before the worker accepts a request), so
    ``init()`` must finish within this. The kubelet probes every ``period`` seconds and skips the ticks
    before ``initial_delay`` (kubernetes ``pkg/kubelet/prober/worker.go``): the first probe lands between
    ``initial_delay`` and ``initial_delay + period``, and ``failure_threshold`` failures in a row later the
    liveness probe restarts the container and the readiness probe marks it unready. The last moment is
    therefore ``initial_delay + period x failure_threshold`` (310 s with the defaults); it can come up to
    one period sooner, which is why using more than half of it is already worth a note.
    """
    return float(probe.initial_delay + probe.period * probe.failure_threshold)


def probe_findings(liveness: Probe, readiness: Probe, init_seconds: float) -> list[Finding]:
    """Whether a start-up as slow as the one measured here fits in each probe's allowance."""
    findings: list[Finding] = []
    for section, probe in (("liveness_probe", liveness), ("readiness_probe", readiness)):
        finding = _probe_finding(section, probe, init_seconds)
        if finding is not None:
            findings.append(finding)
    return findings


def _probe_finding(section: str, probe: Probe, init_seconds: float) -> Finding | None:
    allowance = startup_allowance_seconds(probe)
    arithmetic = (
        f"{section}.initial_delay {probe.initial_delay} s + period {probe.period} s x failure_threshold "
        f"{probe.failure_threshold} = {allowance:g} s"
    )
    if init_seconds > allowance:
        outcome = (
            "the container is restarted over and over (a crash loop)"
            if section == "liveness_probe"
            else "the container never becomes ready and the deployment fails"
        )
        return Finding(
            "warning",
            "probe",
            f"init() took {init_seconds:.1f} s here, longer than the probe allows ({arithmetic}): {outcome}. "
            f"Raise {section}.failure_threshold (or {section}.initial_delay) so that init() uses at most half "
            f"of it ({TROUBLESHOOTING}, ResourceNotReady).",
            fix=_probe_fix(section, probe, init_seconds),
        )
    if init_seconds > allowance / 2:
        return Finding(
            "note",
            "probe",
            f"init() took {init_seconds:.1f} s here, more than half of what the probe allows ({arithmetic}); "
            f"a slower instance could exceed it. Consider raising {section}.failure_threshold.",
            fix=_probe_fix(section, probe, init_seconds),
        )
    return None


def _probe_fix(section: str, probe: Probe, init_seconds: float) -> str:
    """A ``failure_threshold`` that gives ``init()`` twice the time it took here (or an initial delay)."""
    if probe.period <= 0:
        return f"{section}.initial_delay: {math.ceil(2 * init_seconds)}"
    threshold = max(probe.failure_threshold, math.ceil((2 * init_seconds - probe.initial_delay) / probe.period))
    return f"{section}.failure_threshold: {threshold}"


def concurrency_findings(settings: RequestSettings, workers: int, run_ms: float | None) -> list[Finding]:
    """Whether requests get answered within ``request_timeout_ms`` given the workers and a measured run().

    The platform lets ``max_concurrent_requests_per_instance`` requests into one instance at once; the
    server has ``WORKER_COUNT`` (default 1) gunicorn sync workers, each running one ``run()`` at a time,
    so the others wait inside the container. When that many arrive together, the last one waits
    ``ceil(max_concurrent / workers) - 1`` runs before its own. A request not answered within the timeout
    gets 408 "Request timeout" from a managed endpoint and 504 from a Kubernetes one (TROUBLESHOOTING,
    "HTTP status codes"); the server's own SCORING_TIMEOUT_MS (one hour by default, answered with a 500
    "Scoring timeout") comes much later.
    """
    workers = max(1, workers)
    concurrent = settings.max_concurrent_requests_per_instance
    timeout = settings.request_timeout_ms
    if run_ms is not None and run_ms > timeout:
        return [_run_too_slow(run_ms, timeout)]
    if concurrent <= workers:
        return []
    if run_ms is None:
        return [_queueing_note(concurrent, workers)]
    rounds = math.ceil(concurrent / workers)
    wait_ms = (rounds - 1) * run_ms
    if wait_ms + run_ms <= timeout:
        return [_queueing_note(concurrent, workers, wait_ms)]
    return [
        Finding(
            "warning",
            "settings",
            f"request_settings.max_concurrent_requests_per_instance is {concurrent} but the server runs {workers} "
            f"worker(s): when {concurrent} requests arrive together the last waits {wait_ms:.0f} ms for a worker, "
            f"then runs {run_ms:.0f} ms, {wait_ms + run_ms:.0f} ms in all, over request_timeout_ms ({timeout}): it "
            f"gets 408 Request timeout (504 on Kubernetes; {TROUBLESHOOTING}). Set WORKER_COUNT to {concurrent} "
            f"in environment_variables ({YAML_MANAGED}), or lower max_concurrent_requests_per_instance.",
            fix=f'WORKER_COUNT: "{concurrent}"',
        )
    ]


def _run_too_slow(run_ms: float, timeout: int) -> Finding:
    suggested = math.ceil(2 * run_ms / 1000) * 1000
    maximum = (
        f" (a managed deployment allows at most {MAX_REQUEST_TIMEOUT_MS_MANAGED})"
        if suggested > MAX_REQUEST_TIMEOUT_MS_MANAGED
        else ""
    )
    return Finding(
        "warning",
        "settings",
        f"run() took {run_ms:.0f} ms here, longer than request_settings.request_timeout_ms ({timeout}): every "
        f"request would get 408 Request timeout from a managed endpoint (504 on Kubernetes; {TROUBLESHOOTING}). "
        f"Raise request_timeout_ms{maximum} or make run() faster.",
        fix=f"request_timeout_ms: {min(suggested, MAX_REQUEST_TIMEOUT_MS_MANAGED)}",
    )


def _queueing_note(concurrent: int, workers: int, wait_ms: float | None = None) -> Finding:
    waited = "" if wait_ms is None else f" (the last of {concurrent} arriving together waits {wait_ms:.0f} ms)"
    return Finding(
        "note",
        "settings",
        f"request_settings.max_concurrent_requests_per_instance is {concurrent} but the server runs {workers} "
        f"worker(s): requests wait inside the container for a free worker{waited}. Set WORKER_COUNT to "
        f"{concurrent} in environment_variables to run them at once ({YAML_MANAGED}).",
        fix=f'WORKER_COUNT: "{concurrent}"',
    )


def memory_findings(
    instance_type: str | None, limit_bytes: int | None, peak_rss_bytes: int | None, workers: int
) -> list[Finding]:
    """Whether every worker's peak memory fits in the instance (or the Kubernetes limit).

    Each gunicorn worker imports the script and runs ``init()`` itself, so each holds its own model:
    the container needs about ``peak x WORKER_COUNT`` (less with WORKER_PRELOAD, where the workers share
    what the master loaded until they write to it). Past the instance's memory or the container's limit
    the kernel's OOM killer ends a worker with SIGKILL, exit code 137 (gunicorn logs "was sent SIGKILL!
    Perhaps out of memory?", the server "died with <Signals.SIGKILL: 9>"), with no Python traceback.
    """
    budget, what, findings = _memory_budget(instance_type, limit_bytes)
    if budget is None or peak_rss_bytes is None:
        return findings
    workers = max(1, workers)
    needed = peak_rss_bytes * workers
    if needed <= MEMORY_WARN_FRACTION * budget:
        return findings
    verdict = "more than" if needed > budget else f"over {MEMORY_WARN_FRACTION:.0%} of"
    findings.append(
        Finding(
            "warning",
            "memory",
            f"a worker's peak memory here is {_gib(peak_rss_bytes)} x {workers} worker(s) = {_gib(needed)}, {verdict} "
            f"the {_gib(budget)} of {what}: the kernel's OOM killer would end a worker with SIGKILL (exit code 137, "
            "'died with <Signals.SIGKILL: 9>') and no traceback. Use a larger instance, fewer workers "
            "(WORKER_COUNT) or a smaller model.",
        )
    )
    return findings


def _memory_budget(instance_type: str | None, limit_bytes: int | None) -> tuple[int | None, str, list[Finding]]:
    """The memory a container may use: the smaller of the instance's memory and the Kubernetes limit.

    A limit equal to the instance's memory is the instance's (a caller may pass the SKU's memory as the
    limit of a managed deployment): the finding names what the user would change.
    """
    instance = instance_memory_bytes(instance_type) if instance_type else None
    if instance is not None and (limit_bytes is None or instance <= limit_bytes):
        return instance, f"instance_type {instance_type}", []
    if limit_bytes is not None:
        return limit_bytes, "resources.limits.memory", []
    if not instance_type:
        return None, "", []
    note = Finding(
        "note",
        "memory",
        f"the memory of instance_type {instance_type} is not known here, so the memory check skips it "
        "(see https://learn.microsoft.com/azure/virtual-machines/sizes/overview for its size).",
    )
    return None, "", [note]


def _gib(size: float) -> str:
    return f"{size / _GIB:.1f} GiB"
