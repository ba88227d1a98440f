"""`score-shim logs` on what the platform says (issue 15): its failures recognised, with their cause, fix and guide.

The samples are written here, in the formats the tools print (``kubectl describe pod`` and ``get events``,
``az ml online-deployment get-logs``, the Azure CLI's and SDKs' errors, Docker build logs with conda and pip,
azureml-core's web service errors); the lines are our own. Each goes through the command as a user runs it
(``python -m shim logs FILE``, with and without ``--json``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._logs import logs_json, logs_text, write

GUIDE = "https://learn.microsoft.com/azure/machine-learning/how-to-troubleshoot-online-endpoints"
V1_GUIDE = "https://learn.microsoft.com/azure/machine-learning/v1/how-to-troubleshoot-deployment"


def explained(tmp_path: Path, text: str, name: str = "paste.txt") -> dict[str, dict[str, Any]]:
    return {item["kind"]: item for item in logs_json(write(tmp_path, name, text))["explained"]}


# -- kubectl describe pod ---------------------------------------------------------------------------------------

DESCRIBE_HEAD = """\
Name:             blue-7d9c5f6b8-x2k9m
Namespace:        azureml-ws01
Priority:         0
Service Account:  default
Node:             aks-cpupool-31415926-vmss000001/10.224.0.5
Start Time:       Thu, 03 Dec 2026 09:10:02 +0000
Labels:           app=blue
                  pod-template-hash=7d9c5f6b8
Annotations:      <none>
Status:           Running
IP:               10.244.1.17
IPs:
  IP:           10.244.1.17
Controlled By:  ReplicaSet/blue-7d9c5f6b8
Init Containers:
  storage-initializer:
    Container ID:   containerd://0c1d2e3f
    State:          Terminated
      Reason:       Completed
      Exit Code:    0
    Ready:          True
    Restart Count:  0
Containers:
  inference-server:
    Container ID:   containerd://4f1e0c2a
    Image:          ws01acr.azurecr.io/azureml/azureml_5b1c:latest
    Port:           5001/TCP
    Host Port:      0/TCP
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       {reason}
      Exit Code:    {code}
      Started:      Thu, 03 Dec 2026 09:21:40 +0000
      Finished:     Thu, 03 Dec 2026 09:22:31 +0000
    Ready:          False
    Restart Count:  6
    Limits:
      cpu:     1
      memory:  1Gi
    Requests:
      cpu:        500m
      memory:     512Mi
    Liveness:     http-get http://:5001/ delay=600s timeout=2s period=10s #success=1 #failure=30
    Readiness:    http-get http://:5001/ delay=10s timeout=2s period=10s #success=1 #failure=3
    Environment:
      AZUREML_MODEL_DIR:  /var/azureml-app/azureml-models
      WORKER_COUNT:       4
{environment}    Mounts:
      /var/azureml-app from app-volume (rw)
Conditions:
  Type              Status
  Initialized       True
  Ready             False
  ContainersReady   False
  PodScheduled      True
QoS Class:                   Burstable
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
"""

EVENTS = """\
Events:
  Type     Reason     Age                From     Message
  ----     ------     ----               ----     -------
  Normal   Pulling    14m                kubelet  Pulling image "ws01acr.azurecr.io/azureml/azureml_5b1c:latest"
{normal}  Normal   Pulled     4m (x7 over 14m)   kubelet  Container image "ws01acr.azurecr.io/s:1" already present
  Warning  Unhealthy  3m (x4 over 12m)   kubelet  Liveness probe failed: HTTP probe failed with statuscode: 502
  Warning  BackOff    2m (x25 over 11m)  kubelet  Back-off restarting failed container
"""


def describe(reason: str = "OOMKilled", code: int = 137, environment: str = "", normal: str = "") -> str:
    head = DESCRIBE_HEAD.format(reason=reason, code=code, environment=environment)
    return head + EVENTS.format(normal=normal)


def test_describe_pod_oomkilled_names_the_memory_limit_the_crash_loop_and_the_probe(tmp_path: Path) -> None:
    path = tmp_path / "describe.txt"
    path.write_text(describe(), encoding="utf-8")
    data = logs_json(path)
    kinds = {item["kind"]: item for item in data["explained"]}
    assert set(kinds) == {"oom-killed", "crash-loop", "probe-liveness"}  # the storage initializer's 0 is no failure
    oom = kinds["oom-killed"]
    assert oom["details"] == {
        "container": "inference-server",
        "restarts": "6",
        "exit code": "137",
        "memory limit": "1Gi",
    }
    assert "memory" in oom["cause"] and "more memory" in oom["fix"]
    assert oom["guide"] == GUIDE + "#error-podoutofmemory"
    assert oom["evidence"] == ["Last State: Terminated | Reason: OOMKilled | Exit Code: 137"]
    loop = kinds["crash-loop"]
    assert loop["count"] == 2  # the container's state, and the BackOff event
    assert loop["details"]["last exit code"] == "137" and loop["details"]["back-offs"] == "25 in 11m"
    assert loop["guide"] == GUIDE + "#error-kubernetescrashloopbackoff"
    probe = kinds["probe-liveness"]
    assert probe["details"] == {"answer": "HTTP 502"}
    assert "init()" in probe["cause"] and "initial_delay" in probe["fix"]
    assert data["failures"] == []

    text = logs_text(path)
    assert "x the container was killed for memory (OOMKilled)" in text
    assert "memory limit: 1Gi" in text
    assert "guide: " + GUIDE + "#error-podoutofmemory" in text
    assert "No line from the inference server or the shim was recognised" not in text


@pytest.mark.parametrize(
    ("reason", "code", "said", "anchor"),
    [
        ("Error", 3, "init() failed", "#error-resourcenotready"),
        ("Error", 139, "segmentation fault", "#error-resourcenotready"),
        ("Error", 137, "SIGKILL", "#error-podoutofmemory"),
        ("Error", 1, "exited with code 1", "#error-resourcenotready"),
        ("Error", 134, "SIGABRT", "#error-resourcenotready"),
    ],
)
def test_describe_pod_exit_codes_say_what_they_mean(
    tmp_path: Path, reason: str, code: int, said: str, anchor: str
) -> None:
    kinds = explained(tmp_path, describe(reason, code))
    finding = kinds[f"exit-code-{code}"]
    assert said in finding["title"] + finding["cause"]
    assert finding["details"]["exit code"] == str(code)
    assert finding["guide"] == GUIDE + anchor
    assert ("memory limit" in finding["details"]) == (code == 137)  # the limit where memory is the likely cause
    assert "oom-killed" not in kinds


def test_describe_pod_longer_than_a_record_keeps_its_state_and_its_last_events(tmp_path: Path) -> None:
    # 600 environment variables and 500 events: each section is cut to its head and tail, and still read.
    environment = "".join(f"      SETTING_{n}:  value-{n}\n" for n in range(600))
    normal = "".join(
        f"  Normal   Pulled     {n}s                  kubelet            Pulled image\n" for n in range(500)
    )
    kinds = explained(tmp_path, describe(environment=environment, normal=normal))
    assert kinds["oom-killed"]["details"]["memory limit"] == "1Gi"
    assert kinds["crash-loop"]["details"]["back-offs"] == "25 in 11m"  # the BackOff event, last of 500
    assert kinds["probe-liveness"]["count"] == 1


def test_a_memory_limit_pasted_apart_fills_in_the_oomkill(tmp_path: Path) -> None:
    sample = (
        "Last State:     Terminated\n"
        "  Reason:       OOMKilled\n"
        "  Exit Code:    137\n"
        "Restart Count:  3\n"
        "Limits:\n"
        "  memory:  2Gi\n"
    )
    kinds = explained(tmp_path, sample)
    assert kinds["oom-killed"]["details"]["memory limit"] == "2Gi"
    assert kinds["oom-killed"]["count"] == 1


# -- scheduling -------------------------------------------------------------------------------------------------


def test_failed_scheduling_names_the_resource_and_the_nodes(tmp_path: Path) -> None:
    sample = (
        "Events:\n"
        "  Type     Reason            Age                 From               Message\n"
        "  ----     ------            ----                ----               -------\n"
        "  Warning  FailedScheduling  2m10s (x4 over 5m)  default-scheduler  0/3 nodes are available: "
        "3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for "
        "incoming pod..\n"
    )
    path = tmp_path / "events.txt"
    path.write_text(sample, encoding="utf-8")
    kinds = {item["kind"]: item for item in logs_json(path)["explained"]}
    assert list(kinds) == ["unschedulable-gpu"]
    gpu = kinds["unschedulable-gpu"]
    assert gpu["details"] == {"nodes available": "0 of 3", "resource": "nvidia.com/gpu", "nodes without it": "3"}
    assert "add GPU nodes" in gpu["fix"] and "GPU SKU" in gpu["fix"] and "needs no GPU" in gpu["fix"]
    assert gpu["guide"] == GUIDE + "#error-podunschedulable"
    text = logs_text(path)
    assert "resource: nvidia.com/gpu" in text and "nodes without it: 3" in text


def test_each_scheduling_reason_gets_its_own_fix(tmp_path: Path) -> None:
    # kubectl get events, one line per event.
    sample = (
        "LAST SEEN   TYPE      REASON             OBJECT                       MESSAGE\n"
        "41s         Warning   FailedScheduling   pod/green-5f4d8c7b9-q8w7e    0/5 nodes are available: "
        "2 Insufficient cpu, 2 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector.\n"
    )
    kinds = explained(tmp_path, sample)
    assert kinds["unschedulable-cpu"]["details"]["nodes without it"] == "2"
    assert kinds["unschedulable-memory"]["details"]["resource"] == "memory"
    assert "add nodes" in kinds["unschedulable-cpu"]["fix"] and "ask for less" in kinds["unschedulable-cpu"]["fix"]
    assert kinds["unschedulable-selector"]["details"]["reason"] == "1 node(s) didn't match Pod's node affinity/selector"
    assert "node selector" in kinds["unschedulable-selector"]["fix"]


def test_kubernetes_out_of_quota_and_too_many_pods(tmp_path: Path) -> None:
    sample = (
        "2026-12-03T12:10:41Z OutOfQuota: Kubernetes unschedulable. Details:0/1 nodes are available: 1 Too many "
        "pods... Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-outofquota\n"
    )
    kinds = explained(tmp_path, sample)
    assert kinds["OutOfQuota/kubernetes"]["guide"] == GUIDE + "#kubernetes-quota"
    assert kinds["unschedulable-pods"]["details"]["reason"] == "1 Too many pods"


# -- az ml online-deployment get-logs ---------------------------------------------------------------------------

GET_LOGS = """\
Instance status:
SystemSetup: Succeeded
UserContainerImagePull: Succeeded
ModelDownload: Failed
UserContainerStart: Waiting

Container events:
Kind: Pod, Name: Downloading, Type: Normal, Time: 2026-12-03T10:02:11.204518Z, Message: Start downloading models
Kind: Pod, Name: DownloadFailed, Type: Warning, Time: 2026-12-03T10:02:19.877301Z, Message: Model download failed, \
retrying. Please check storage-initializer log for detail.
Kind: Pod, Name: LivenessProbeFailed, Type: Warning, Time: 2026-12-03T10:09:40.13373Z, Message: Liveness probe \
failed: HTTP probe failed with statuscode: 502
Kind: Pod, Name: ReadinessProbeFailed, Type: Warning, Time: 2026-12-03T10:09:47.264146Z, Message: Readiness probe \
failed: Get "http://10.0.0.4:5001/": dial tcp 10.0.0.4:5001: connect: connection refused
Kind: Pod, Name: BackOff, Type: Warning, Time: 2026-12-03T10:11:02.5Z, Message: Back-off restarting failed container
"""


def test_get_logs_instance_status_and_container_events(tmp_path: Path) -> None:
    kinds = explained(tmp_path, GET_LOGS)
    assert set(kinds) == {"model-download", "probe-liveness", "probe-readiness", "crash-loop"}
    download = kinds["model-download"]
    assert download["details"] == {"step": "ModelDownload"}
    assert "storage-initializer" in download["fix"] and "az ml model show" in download["fix"]
    assert download["guide"] == GUIDE + "#unable-to-download-user-model"
    assert kinds["probe-readiness"]["details"] == {"answer": "connection refused"}
    assert kinds["probe-liveness"]["first"] == "2026-12-03T10:09:40.13373Z"  # the event's own time
    assert kinds["crash-loop"]["evidence"][0].endswith("Message: Back-off restarting failed container")


# -- the Azure CLI's and SDKs' errors ---------------------------------------------------------------------------

RESOURCE_NOT_READY = """\
Check: endpoint ep-churn exists
Creating/updating online deployment blue ..............................................Failed
ERROR: (ResourceNotReady) User container has crashed or terminated: Liveness probe failed: HTTP probe failed with \
statuscode: 502. Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-resourcenotready
Code: ResourceNotReady
Message: User container has crashed or terminated: Liveness probe failed: HTTP probe failed with statuscode: 502. \
Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-resourcenotready
"""


def test_resource_not_ready_is_told_once_with_its_reason(tmp_path: Path) -> None:
    kinds = explained(tmp_path, RESOURCE_NOT_READY)
    ready = kinds["ResourceNotReady"]
    assert ready["count"] == 1  # azure-core's "Code:" and "Message:" lines repeat it
    assert len(ready["evidence"]) == 1 and ready["evidence"][0].startswith("ERROR: (ResourceNotReady)")
    assert ready["details"] == {"reason": "Liveness probe failed: HTTP probe failed with statuscode: 502"}
    assert "init()" in ready["cause"] and "score-shim check" in ready["fix"]
    assert ready["guide"] == GUIDE + "#error-resourcenotready"
    assert kinds["probe-liveness"]["count"] == 1


def test_out_of_quota_says_which_quota(tmp_path: Path) -> None:
    sample = (
        "2026-12-03T11:40:02Z OutOfQuota: Container terminated due to insufficient memory. Please see "
        "troubleshooting guide, available here: https://aka.ms/oe-tsg#error-outofquota\n"
        "azure.core.exceptions.HttpResponseError: (OutOfQuota) Not enough quota available for Standard_DS3_v2 in "
        "SubscriptionId 00000000-1111-2222-3333-444444444444. Current usage/limit: 4/6. Additional needed: 8 Please "
        "see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-outofquota\n"
        "Code: OutOfQuota\n"
        "Message: Not enough quota available for Standard_DS3_v2 in SubscriptionId "
        "00000000-1111-2222-3333-444444444444. Current usage/limit: 4/6. Additional needed: 8 Please see "
        "troubleshooting guide, available here: https://aka.ms/oe-tsg#error-outofquota\n"
    )
    kinds = explained(tmp_path, sample)
    memory = kinds["OutOfQuota/memory"]
    assert memory["guide"] == GUIDE + "#memory-quota" and "more memory" in memory["fix"]
    assert memory["first"] == "2026-12-03T11:40:02Z"
    cpu = kinds["OutOfQuota/cpu"]
    assert cpu["count"] == 1
    assert cpu["details"] == {"VM size": "Standard_DS3_v2", "usage/limit": "4/6", "cores needed": "8"}
    assert "quota increase" in cpu["fix"] and cpu["guide"] == GUIDE + "#cpu-quota"


@pytest.mark.parametrize(
    ("line", "kind", "anchor", "said"),
    [
        (
            "ERROR: (ImageBuildFailure) Failed to build the image. The build log is available in the workspace blob "
            "store 'ws01store' under the path '/azureml/ImageLogs/5b1c/build.log'.",
            "ImageBuildFailure",
            "#error-imagebuildfailure",
            "build log",
        ),
        (
            "ERROR: (BadArgument) Startup task failed due to authorization error. Please see troubleshooting "
            "guide: https://aka.ms/oe-tsg#error-badargument",
            "BadArgument",
            "#error-badargument",
            "AcrPull",
        ),
        (
            "azure.core.exceptions.ResourceNotFoundError: (ResourceNotFound) The resource 'ws01store' was not found.",
            "ResourceNotFound",
            "#error-resourcenotfound",
            "names and paths",
        ),
        (
            "ERROR: (OperationCanceled) The operation was canceled.",
            "OperationCanceled",
            "#error-operationcanceled",
            "try again",
        ),
        (
            "ERROR: (OutOfCapacity) The specified VM Size failed to provision due to a lack of capacity.",
            "OutOfCapacity",
            "#region-wide-vm-capacity",
            "another region",
        ),
        (
            "azure.core.exceptions.HttpResponseError: (InternalServerError) Internal error. Please see "
            "troubleshooting guide, available here: https://aka.ms/oe-tsg#error-internalservererror",
            "InternalServerError",
            "#error-internalservererror",
            "support ticket",
        ),
        (
            "ERROR: (PodUnschedulable) The pod of the deployment cannot be scheduled.",
            "PodUnschedulable",
            "#error-podunschedulable",
            "node selector",
        ),
        (  # a JSON error as the CLI prints it, over several lines
            '{\n  "code": "BadRequest",\n  "statusCode": 400,\n  "message": "The request is invalid.",\n  "details": '
            '[\n    {\n      "code": "KubernetesUnaccessible",\n      "message": "Kubernetes error: '
            'AuthenticationException. Reason: InvalidCertificate"\n    }\n  ]\n}',
            "KubernetesUnaccessible",
            "#error-kubernetesunaccessible",
            "certificate",
        ),
        (
            "ERROR: (PodOutOfMemory) The pod ran out of memory.",
            "PodOutOfMemory",
            "#error-podoutofmemory",
            "memory limit",
        ),
        (
            "ERROR: (ImagePullLoopBackOff) Image pull failed.",
            "ImagePullLoopBackOff",
            "#error-imagepullloopbackoff",
            "registry",
        ),
        (
            "ERROR: (DeploymentCrashLoopBackOff) The user container crashed.",
            "DeploymentCrashLoopBackOff",
            "#error-deploymentcrashloopbackoff",
            "memory limit",
        ),
        (
            "ERROR: (KubernetesCrashLoopBackOff) Pods are crash looping.",
            "KubernetesCrashLoopBackOff",
            "#error-kubernetescrashloopbackoff",
            "larger memory limit",
        ),
    ],
)
def test_azure_ml_error_codes(tmp_path: Path, line: str, kind: str, anchor: str, said: str) -> None:
    kinds = explained(tmp_path, line + "\n")
    assert kind in kinds, kinds
    assert kinds[kind]["guide"] == GUIDE + anchor
    assert said in kinds[kind]["fix"]
    assert kinds[kind]["count"] == 1


def test_old_sdk_web_service_failure_names_the_entry_scripts_error(tmp_path: Path) -> None:
    sample = """\
Running.......................................................
Failed
ERROR:azureml.core.webservice.webservice:Service deployment polling reached non-successful terminal state, \
current service state: Unhealthy
Operation ID: 5a1c9e2e-8f5e-4c1b-9d0a-3c2b1a0f9e8d
More information can be found using '.get_logs()'
Error:
{
  "code": "AciDeploymentFailed",
  "statusCode": 400,
  "message": "Aci Deployment failed with exception: Error in entry script, ModuleNotFoundError: No module named \
'lightgbm', please run print(service.get_logs()) to get details.",
  "details": [
    {
      "code": "CrashLoopBackOff",
      "message": "Error in entry script, ModuleNotFoundError: No module named 'lightgbm', please run \
print(service.get_logs()) to get details."
    }
  ]
}
"""
    kinds = explained(tmp_path, sample)
    entry = kinds["entry-script-error"]
    assert entry["count"] == 1
    assert entry["details"] == {"error": "ModuleNotFoundError: No module named 'lightgbm'"}
    assert "conda file" in entry["fix"] and entry["guide"] == V1_GUIDE + "#service-launch-fails"
    assert kinds["webservice-failed"]["details"] == {"state": "Unhealthy"}
    assert "crash-loop" in kinds


def test_old_sdk_could_not_schedule_on_aks(tmp_path: Path) -> None:
    sample = """\
WebserviceException: WebserviceException:
	Message: Service deployment polling reached non-successful terminal state, current service state: Failed
Operation ID: 0c4f2a55-1b1e-4c3e-a4a5-7d7e1c9b2f10
More information can be found using '.get_logs()'
Error:
{
  "code": "KubernetesDeploymentFailed",
  "statusCode": 400,
  "message": "Kubernetes Deployment failed",
  "details": [
    {
      "code": "CrashLoopBackOff",
      "message": "Couldn't Schedule because the kubernetes cluster didn't have available resources after trying \
for 00:05:00.\\nAdditional data: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    }
  ]
}
"""
    kinds = explained(tmp_path, sample)
    schedule = kinds["could-not-schedule"]
    assert schedule["details"] == {"waited": "00:05:00"}
    assert "add nodes" in schedule["fix"] and schedule["guide"] == V1_GUIDE + "#container-cant-be-scheduled"
    assert kinds["unschedulable-gpu"]["details"]["resource"] == "nvidia.com/gpu"
    assert kinds["unschedulable-gpu"]["details"]["nodes without it"] == "3"


# -- image build logs -------------------------------------------------------------------------------------------

CONDA_BUILD = """\
2026/12/03 12:01:13 Downloading source code...
Step 7/16 : RUN ldconfig /usr/local/cuda/lib64/stubs && conda env create -p /azureml-envs/azureml_0d3b -f \
azureml-environment-setup/mutated_conda_dependencies.yml
 ---> Running in 8f1c2d3e4a5b
Collecting package metadata (repodata.json): ...working... done
Solving environment: ...working... failed
\x1b[91m
PackagesNotFoundError: The following packages are not available from current channels:

  - scikit-learn==0.24.9
  - lightgbm==9.1

Current channels:

  - https://conda.anaconda.org/conda-forge/linux-64
  - https://conda.anaconda.org/conda-forge/noarch

\x1b[0mThe command '/bin/sh -c ldconfig /usr/local/cuda/lib64/stubs && conda env create ...' returned a non-zero \
code: 1
"""

PIP_BUILD = """\
Installing pip dependencies: ...working... Ran pip subprocess with arguments:
['/azureml-envs/azureml_77aa/bin/python', '-m', 'pip', 'install', '-U', '-r', \
'/azureml-environment-setup/condaenv.q1w2e3.requirements.txt']
Pip subprocess output:
Collecting azureml-defaults==1.99.0
[91mERROR: Could not find a version that satisfies the requirement azureml-defaults==1.99.0 (from versions: \
1.55.0, 1.56.0, 1.57.0, 1.58.0, 1.59.0, 1.60.0)
[0m[91mERROR: No matching distribution found for azureml-defaults==1.99.0
[0m
failed
"""

PIP_CONFLICT = """\
ERROR: Cannot install -r /azureml-environment-setup/condaenv.a1b2.requirements.txt (line 3) and numpy==1.19.5 \
because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested numpy==1.19.5
    pandas 2.0.3 depends on numpy>=1.20.3; python_version < "3.10"

To fix this you could try to:
1. loosen the range of package versions you've specified
2. remove package versions to allow pip attempt to solve the dependency conflict

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts
"""


def test_conda_packages_not_found_are_named(tmp_path: Path) -> None:
    kinds = explained(tmp_path, CONDA_BUILD)
    conda = kinds["conda-packages-not-found"]
    assert conda["details"] == {"packages": "scikit-learn==0.24.9, lightgbm==9.1"}
    assert "conda file" in conda["fix"] and "channel" in conda["fix"]
    assert conda["guide"] == GUIDE + "#generic-image-build-failure"


def test_conda_resolve_package_not_found(tmp_path: Path) -> None:
    kinds = explained(
        tmp_path, "Solving environment: ...working... failed\nResolvePackageNotFound: \n  - python=3.6.2\n"
    )
    assert kinds["conda-packages-not-found"]["details"] == {"packages": "python=3.6.2"}


def test_pip_version_not_found_is_told_once_with_the_versions_there_are(tmp_path: Path) -> None:
    kinds = explained(tmp_path, PIP_BUILD)
    pip = kinds["pip-version-not-found"]
    assert pip["count"] == 1  # "Could not find a version" and "No matching distribution" tell one failure
    assert pip["details"]["packages"] == "azureml-defaults==1.99.0"
    assert pip["details"]["versions found"].endswith("1.59.0, 1.60.0")
    assert "pip section" in pip["fix"] and pip["guide"] == GUIDE + "#generic-image-build-failure"


def test_pip_resolution_impossible_names_the_conflict(tmp_path: Path) -> None:
    kinds = explained(tmp_path, PIP_CONFLICT)
    conflict = kinds["pip-conflict"]
    assert conflict["count"] == 1
    assert "numpy==1.19.5" in conflict["details"]["packages"]
    assert conflict["details"]["conflict"] == (
        'The user requested numpy==1.19.5, pandas 2.0.3 depends on numpy>=1.20.3; python_version < "3.10"'
    )
    assert "conda file" in conflict["fix"]


# -- a process killed -------------------------------------------------------------------------------------------


def test_died_with_sigkill_9(tmp_path: Path) -> None:
    sample = (
        "subprocess.CalledProcessError: Command '['DaskOnBatch:context_managers.DaskOnBatch', 'setup.py']' died "
        "with <Signals.SIGKILL: 9>.\n"
    )
    kinds = explained(tmp_path, sample)
    killed = kinds["signal-9"]
    assert killed["details"] == {"signal": "SIGKILL"}
    assert "memory" in killed["cause"] and "more memory" in killed["fix"]
    assert killed["guide"] == V1_GUIDE + "#other-error-messages"


# -- and nothing where there is nothing -------------------------------------------------------------------------

SERVER_LOG = """\
2026-12-03 09:14:02,101 I [61] gunicorn.error - Starting gunicorn 23.0.0
2026-12-03 09:14:02,104 I [63] gunicorn.error - Booting worker with pid: 63
Initializing logger
2026-12-03 09:14:03,911 I [63] azmlinfsrv - Starting up app insights client
2026-12-03 09:14:03,913 I [63] azmlinfsrv.user_script - Found user script at /var/azureml-app/onlinescoring/score.py
2026-12-03 09:14:03,913 I [63] azmlinfsrv.user_script - Invoking user's init function
Loading model from /var/azureml-app/azureml-models/churn/1/model.pkl (State: ready, Limits: none)
2026-12-03 09:14:03,950 I [63] azmlinfsrv.user_script - Users's init has completed successfully
2026-12-03 09:14:04,310 I [63] azmlinfsrv - POST /score 200 3.102ms 18
{"timestamp": "2026-12-03T09:14:04.400000Z", "level": "info", "event": "pod was OOMKilled before, CrashLoopBackOff \
now over", "logger": "score", "pid": 63}
2026-12-03 09:14:05,002 E [63] azmlinfsrv - Encountered Exception Traceback (most recent call last):
  File "/var/azureml-app/onlinescoring/score.py", line 21, in run
    return model.predict(data)
ValueError: Expected 2D array, got 1D array instead
werkzeug.exceptions.InternalServerError: 500 Internal Server Error: The server encountered an internal error
2026-12-03 09:14:05,003 I [63] azmlinfsrv - POST /score 500 4.551ms 44
"""


def test_a_server_log_yields_no_platform_finding(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    path.write_text(SERVER_LOG, encoding="utf-8")
    data = logs_json(path)
    assert data["explained"] == []
    assert [failure["type"] for failure in data["failures"]] == ["ValueError"]
    assert "Explained" not in logs_text(path)


def test_hostile_text_in_a_finding_is_shown_escaped_and_cut(tmp_path: Path) -> None:
    """What the platform echoes is the user's (an exception message): it must not drive the terminal,
    forge a line, or flood the screen in the "Explained" section."""
    hostile = "\x1b[2J\x1b]0;pwned\x07\x1b[31mFORGED" + "A" * 2000
    path = tmp_path / "paste.txt"
    path.write_text(f"(ResourceNotReady) User container has crashed or terminated: {hostile}\n", encoding="utf-8")

    text = logs_text(path)
    assert "Explained" in text and "ResourceNotReady" in text
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in text  # shown, as the escaped text it was
    assert max(len(line) for line in text.splitlines()) < 400  # the evidence is cut, not the whole 2 KB
    assert all(line.startswith(" ") or not line.startswith("FORGED") for line in text.splitlines())

    raw = subprocess.run(
        [sys.executable, "-m", "shim", "logs", str(path), "--json"], capture_output=True, timeout=60
    ).stdout
    assert b"\x1b" not in raw  # JSON escapes it (\u001b): the data stays as it was, the terminal stays safe
    (finding,) = json.loads(raw)["explained"]
    assert finding["kind"] == "ResourceNotReady" and finding["details"]["reason"].startswith("\x1b[2J")
