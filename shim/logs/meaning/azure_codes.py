"""The error codes of Azure ML's online deployments, each with its cause, its fix and its section of the guide.

Why a table apart: it is data, read from the troubleshooting guide for online endpoints ("Common deployment
errors" and "Common errors specific to Kubernetes deployments"), and `shim.logs.meaning.azure_errors` only has to
find a code in what users paste. The section anchors are the guide's own (the service links them itself:
``https://aka.ms/oe-tsg#error-outofquota``).
"""

from __future__ import annotations

from ..tally.explained import Explanation

_LOGS = "read the container log (az ml online-deployment get-logs) with score-shim logs"
_CHECK = "reproduce it locally in seconds with score-shim check score.py --model-dir MODEL_FOLDER"
_K8S_EXTENSION = "check the Azure ML extension of the cluster (reinstall or update it) and the cluster's network"


def _code(code: str, title: str, cause: str, fix: str, anchor: str = "") -> Explanation:
    return Explanation(f"{title} ({code})", cause, fix, anchor or f"#error-{code.lower()}")


AZURE_CODES: dict[str, Explanation] = {
    "ImageBuildFailure": _code(
        "ImageBuildFailure",
        "the environment's image failed to build",
        "Azure ML could not build the Docker image of the deployment's environment: most often a package of the "
        "conda file cannot be installed (a wrong name or version, pins that conflict), or the build timed out, or "
        "the workspace's container registry refused access",
        "open the build log (the error gives its path in the workspace's storage) and run score-shim logs on it; "
        "try the conda file locally (conda env create -f conda.yaml) and pin the versions that work",
    ),
    # SDK v1's name for the same failure: {"code": "EnvironmentBuildFailed", "message": "Failed building the
    # Environment."} in a WebserviceException.
    "EnvironmentBuildFailed": _code(
        "EnvironmentBuildFailed",
        "the environment's image failed to build",
        "Azure ML could not build the Docker image of the deployment's environment: most often a package of the "
        "conda file cannot be installed (a wrong name or version, pins that conflict)",
        "open the image build log (the workspace's Environments page, or the log URL in the error) and run "
        "score-shim logs on it; try the conda file locally (conda env create -f conda.yaml)",
        "#error-imagebuildfailure",
    ),
    "OutOfQuota": _code(
        "OutOfQuota",
        "a quota was exhausted",
        "the deployment needs more of a resource than the subscription's quota (or the machine) allows: CPU "
        "cores for the VM size, memory, disk, endpoints, role assignments",
        "the message says which resource: delete deployments you no longer need, use another VM size, or request "
        "a quota increase",
    ),
    "OutOfQuota/memory": _code(
        "OutOfQuota",
        "the container needed more memory than the instance has",
        "the memory the model and the server use is more than the instance type (SKU) has, and the container was "
        "terminated",
        "use an instance type with more memory, or load less: fewer workers (WORKER_COUNT), a smaller model; "
        "score-shim check prints the peak memory of init() and run()",
        "#memory-quota",
    ),
    "OutOfQuota/cpu": _code(
        "OutOfQuota",
        "not enough CPU quota for this VM size",
        "the subscription's quota of cores for the VM size (in this region) is smaller than the deployment "
        "needs: instance_count x the cores of the instance type",
        "delete deployments you no longer need, lower instance_count, use a smaller VM size, or request a quota "
        "increase for the VM family",
        "#cpu-quota",
    ),
    "OutOfQuota/kubernetes": _code(
        "OutOfQuota",
        "the Kubernetes cluster has no room for the deployment",
        "no node of the cluster can provide the CPU or memory the deployment asks for (nodes full, cordoned or "
        "unavailable)",
        "add nodes or free some (delete unused pods), or lower the deployment's resource request or its "
        "instance type's",
        "#kubernetes-quota",
    ),
    "OutOfCapacity": _code(
        "OutOfCapacity",
        "Azure has no capacity for this VM size in the region",
        "the VM size could not be provisioned: Azure ML lacks capacity for it in the region",
        "retry later, or deploy with another VM size or in another region",
        "#region-wide-vm-capacity",
    ),
    "BadArgument": _code(
        "BadArgument",
        "the deployment names something that cannot be used",
        "the subscription, the identity's permissions, the container image or the model the deployment refers to "
        "cannot be used (the message says which)",
        "'authorization error': give the endpoint's identity AcrPull on the workspace's registry and Storage Blob "
        "Data Reader on its storage; 'Unable to download user model': check the model is registered in this "
        "workspace; 'Unable to download user container image': check the image is in the registry",
    ),
    "ResourceNotReady": _code(
        "ResourceNotReady",
        "the scoring container crashed or never became ready",
        "the container crashes when it runs: score.py fails to import (a package missing from the conda file, a "
        "syntax error) or init() raises, or init() takes longer than the liveness and readiness probes allow",
        f"{_LOGS}; {_CHECK}; if init() is only slow, raise the probes' initial_delay in the deployment YAML",
    ),
    "ResourceNotFound": _code(
        "ResourceNotFound",
        "a resource the deployment needs was not found",
        "Azure Resource Manager cannot find a resource the deployment refers to (a storage account, the model "
        "or code files, an image), or the image's registry is private",
        "check the names and paths the deployment gives; for a private registry, give the endpoint's identity "
        "the AcrPull role and tell the environment not to build the image",
    ),
    "WorkspaceManagedNetworkNotReady": _code(
        "WorkspaceManagedNetworkNotReady",
        "the workspace's managed network is not provisioned yet",
        "the deployment uses the workspace's managed virtual network, which is not provisioned yet",
        "provision the managed network (az ml workspace provision-network), then deploy again",
    ),
    "OperationCanceled": _code(
        "OperationCanceled",
        "the operation was canceled",
        "another operation with a higher priority took its place, or the same operation was already waiting for "
        "its lock",
        "wait a minute and try again",
    ),
    "SecretsInjectionError": _code(
        "SecretsInjectionError",
        "the deployment's secrets could not be injected",
        "the endpoint's identity may not read the workspace connections or key vaults the deployment's "
        "environment variables refer to, or a reference is malformed or names no secret",
        "give the endpoint's identity read access to the secrets (role assignments take a while) and check the "
        "secret references",
    ),
    "InternalServerError": _code(
        "InternalServerError",
        "Azure ML failed internally",
        "something is wrong in the Azure ML service, not in the deployment",
        "try again; if it persists, open a support ticket with the request id, the region and the endpoint name",
    ),
    "ImagePullLoopBackOff": _code(
        "ImagePullLoopBackOff",
        "the cluster cannot pull the image",
        "the Kubernetes cluster cannot download the image from the workspace's container registry",
        "check the cluster's network policy and that the cluster may pull from the registry",
    ),
    "DeploymentCrashLoopBackOff": _code(
        "DeploymentCrashLoopBackOff",
        "the scoring container crashes at start",
        "score.py raises at import or in init() (a syntax error, a missing package), or the pod needs more memory "
        "than its limit",
        f"{_LOGS}; {_CHECK}; if it is memory, raise the memory limit of the instance type",
    ),
    "KubernetesCrashLoopBackOff": _code(
        "KubernetesCrashLoopBackOff",
        "pods of the deployment are in a crash loop",
        "score.py fails at start (see ResourceNotReady), or the scoring process needs more memory than the "
        "deployment's limit",
        f"{_LOGS}; {_CHECK}; if it is memory, deploy with a larger memory limit",
    ),
    "UserScriptInitFailed": _code(
        "UserScriptInitFailed",
        "init() in score.py raised",
        "the init() function of the uploaded score.py raised an exception",
        f"{_LOGS} to see the exception; {_CHECK}",
    ),
    "UserScriptImportError": _code(
        "UserScriptImportError",
        "score.py failed to import",
        "score.py imports a package that the environment does not have",
        f"add the package to the environment's conda file (its pip name); {_CHECK}",
    ),
    "UserScriptFunctionNotFound": _code(
        "UserScriptFunctionNotFound",
        "score.py has no init() or run()",
        "the uploaded score.py does not define a function named init() or run()",
        "define both init() and run(data) at the top level of score.py",
    ),
    "PodUnschedulable": _code(
        "PodUnschedulable",
        "the pod cannot be scheduled",
        "the cluster has not enough resources for the pod, or no node matches the instance type's node selector",
        "check the instance type's node selector and resources against the nodes; lower its requests, use "
        "another instance type, or delete deployments to free resources",
    ),
    "PodOutOfMemory": _code(
        "PodOutOfMemory",
        "the pod ran out of memory",
        "the memory limit given to the deployment is too small for the model and the server",
        "set a larger memory limit, or use a bigger instance type",
    ),
    "ACRSecretError": _code(
        "ACRSecretError",
        "the cluster could not get the registry's credentials",
        "the role assignment is not complete yet, or the cluster's Azure ML extension or network is misconfigured",
        f"wait a few seconds and retry; {_K8S_EXTENSION} (extension newer than v1.1.25)",
    ),
    "TokenRefreshFailed": _code(
        "TokenRefreshFailed",
        "the cluster's identity is not set properly",
        "the Azure ML extension cannot get a credential from Azure for the cluster's identity",
        "reinstall the Azure ML extension of the cluster and retry",
    ),
    "GetAADTokenFailed": _code(
        "GetAADTokenFailed",
        "the cluster could not get a Microsoft Entra ID token",
        "the cluster's request for a token failed or timed out: its outbound network cannot reach Azure",
        "check the cluster's outbound proxy and network access to the workspace, and whether the workspace "
        "allows public access",
    ),
    "ACRAuthenticationChallengeFailed": _code(
        "ACRAuthenticationChallengeFailed",
        "the cluster cannot reach the container registry",
        "the cluster cannot reach the workspace's registry to authenticate",
        "check the network, in particular the registry's public network access",
    ),
    "ACRTokenExchangeFailed": _code(
        "ACRTokenExchangeFailed",
        "the registry token exchange failed",
        "the cluster's token is not authorized yet (the role assignment takes a while), or the registry is busy",
        "wait a minute and retry",
    ),
    "KubernetesUnaccessible": _code(
        "KubernetesUnaccessible",
        "the Kubernetes cluster is not accessible",
        "Azure ML cannot authenticate to the cluster (for example its certificate is invalid)",
        "rotate the AKS cluster's certificates, wait for them to update, and deploy again",
    ),
    "NamespaceNotFound": _code(
        "NamespaceNotFound",
        "the compute's namespace does not exist in the cluster",
        "the Kubernetes compute uses a namespace that the cluster does not have",
        "detach the compute and attach it again with a namespace that exists in the cluster",
    ),
    "EndpointNotFound": _code(
        "EndpointNotFound",
        "the deployment's endpoint is not in the cluster",
        "the cluster has no endpoint resource for the deployment",
        "create the endpoint first, or deploy to an existing one",
    ),
    "EndpointAlreadyExists": _code(
        "EndpointAlreadyExists",
        "an endpoint of that name already exists in the cluster",
        "endpoint names are unique per workspace and per cluster",
        "create the endpoint with another name",
    ),
    "ScoringFeUnhealthy": _code(
        "ScoringFeUnhealthy",
        "the cluster's azureml-fe is missing or unhealthy",
        "the azureml-fe service that routes requests in the cluster is not found or unhealthy",
        "reinstall or update the Azure ML extension of the cluster",
    ),
    "ValidateScoringFailed": _code(
        "ValidateScoringFailed",
        "the scoring URL failed validation",
        "the scoring request URL could not be validated while the model was processed",
        "check the endpoint's URL and deploy again",
    ),
    "InvalidDeploymentSpec": _code(
        "InvalidDeploymentSpec",
        "the deployment's specification is invalid",
        "the instance count (or the autoscale minimum and maximum) is not valid",
        "check instance_count and, with autoscaling, its minimum and maximum",
    ),
    "InferencingClientCallFailed": _code(
        "InferencingClientCallFailed",
        "the cluster's extension cannot be reached",
        "the k8s-extension of the Kubernetes cluster is not connectable",
        "detach the compute and attach it again with the same name and namespace; ask the cluster's admin to "
        "check the relay pods (kubectl get po -n azureml)",
    ),
}
AZURE_CODES["OperationCancelled"] = AZURE_CODES["OperationCanceled"]  # both spellings occur

#: The guide's anchors (``#error-outofquota``, as ``https://aka.ms/oe-tsg#error-outofquota`` gives them) to codes.
ANCHORS = {f"error-{code.lower()}": code for code in AZURE_CODES if "/" not in code}
