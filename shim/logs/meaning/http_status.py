"""What an HTTP status seen in the access lines means, in the words of Azure ML's troubleshooting guide.

The guide's ``HTTP status codes`` tables (one for managed online endpoints, one for Kubernetes online endpoints)
say what the endpoint's answer means and what to do; each status here keeps the guide's reason and wording,
with the section it comes from. Left out: 401 and 404 (the endpoint answers them before a request reaches the
container: a 404 in the container's own log is a path the server does not serve, not a deployment without
weight) and 409 (an operation on the endpoint, not a request). 500 has both meanings: the guide's (the
platform's infrastructure) and the inference server's own (it answers 500 when ``run()`` raised or ran past its
scoring timeout), since a container's log mostly shows the second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..tally.explained import GUIDE

_MANAGED = "#common-error-codes-for-managed-online-endpoints"
_KUBERNETES = "#common-error-codes-for-kubernetes-online-endpoints"


@dataclass(frozen=True)
class StatusMeaning:
    """One row of the guide's tables: the reason, what it means, what to do, where the guide says it."""

    reason: str
    meaning: str
    fix: str
    section: str  # an anchor in `shim.logs.tally.explained.GUIDE`
    endpoints: str  # the table it comes from

    def as_dict(self, status: int, count: int) -> dict[str, Any]:
        return {
            "status": status,
            "count": count,
            "reason": self.reason,
            "meaning": self.meaning,
            "fix": self.fix,
            "endpoints": self.endpoints,
            "guide": GUIDE + self.section,
        }


MEANINGS: dict[int, StatusMeaning] = {
    408: StatusMeaning(
        "Request timeout",
        "the model execution took longer than the timeout in request_timeout_ms under request_settings of the "
        "deployment",
        "raise request_settings.request_timeout_ms, or make run() faster",
        _MANAGED,
        "managed online endpoints",
    ),
    424: StatusMeaning(
        "Model error",
        "the model container returned a non-200 response, which Azure returns as 424",
        "see the Model Status Code dimension of the endpoint's Requests Per Minute metric, or the response headers "
        "ms-azureml-model-error-statuscode and ms-azureml-model-error-reason; if liveness or readiness probes fail "
        "too, give them more time (ProbeSettings)",
        _MANAGED,
        "managed online endpoints",
    ),
    429: StatusMeaning(
        "Too many pending requests, or rate-limited",
        "the model is getting more requests than it can handle: at most 2 * max_concurrent_requests_per_instance * "
        "instance_count requests are processed in parallel and the rest are rejected (or the endpoint's "
        "requests-per-second limit was reached)",
        "check request_settings and scale_settings, and that WORKER_COUNT is passed; with autoscaling, resend with "
        "exponential backoff; add instances (how many: score-shim logs ... --target-rps N)",
        _MANAGED,
        "managed online endpoints",
    ),
    500: StatusMeaning(
        "Internal server error",
        "from the endpoint, Azure Machine Learning-provisioned infrastructure is failing; in the container's own "
        "log, it is the inference server's answer when run() raised or ran past its scoring timeout",
        "see Failures and Timeouts below for the exception and its place; if the container shows none, the "
        "platform's infrastructure failed: retry, then open a support ticket with the request id",
        _MANAGED,
        "managed and Kubernetes online endpoints",
    ),
    502: StatusMeaning(
        "Exception or crash in the run() method of score.py",
        "there is an error in score.py: an exception or crash in run(), or the container failing to start (an "
        "imported package missing from the conda environment, a syntax error, a failure in init())",
        "debug score.py as the guide's ERROR: ResourceNotReady section says; the workers and failures shown here "
        "name the error",
        _KUBERNETES,
        "Kubernetes online endpoints",
    ),
    503: StatusMeaning(
        "Large spikes in requests per second",
        "the autoscaler handles gradual changes in load; on large spikes in requests per second clients get 503 "
        "while it takes AKS a significant time to create more containers",
        "lower autoscale_target_utilization so that replicas are created earlier, raise the minimum replicas "
        "(how many: score-shim logs ... --target-rps N), or autoscale_max_replicas if already at the maximum",
        "#how-to-prevent-503-status-code-errors",
        "Kubernetes online endpoints",
    ),
    504: StatusMeaning(
        "Request times out",
        "the request timed out (the default timeout is 5 seconds)",
        "increase the timeout (request_timeout_ms) or speed up score.py by removing unnecessary calls; if that "
        "does not help, run() may hang or loop forever: debug it as the guide's ERROR: ResourceNotReady says",
        _KUBERNETES,
        "Kubernetes online endpoints",
    ),
}


def status_meanings(by_status: Mapping[str, int]) -> list[dict[str, Any]]:
    """The guide's meaning of each status seen (``{"503": 12}``, as the summary counts them), lowest first."""
    found = []
    for code, count in by_status.items():
        meaning = MEANINGS.get(int(code)) if code.isdigit() else None
        if meaning is not None and count:
            found.append(meaning.as_dict(int(code), count))
    return sorted(found, key=lambda item: int(item["status"]))
