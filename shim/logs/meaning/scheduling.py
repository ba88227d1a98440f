"""Why a scoring pod could not be placed on a node: which resource was short, on how many nodes, and what to do.

Why a module of its own: the scheduler's message is a small language of its own, and each reason has its own
fix. It is the same in a ``FailedScheduling`` event, in ``OutOfQuota: Kubernetes unschedulable. Details:...``
and in the older web services' ``Couldn't Schedule because the kubernetes cluster didn't have available
resources after trying for 00:05:00``: ``0/3 nodes are available: 3 Insufficient nvidia.com/gpu.``, or several
reasons (``2 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector``), each with its node count.
"""

from __future__ import annotations

import re

from ..tally.explained import Explanation
from .exit_codes import V1_GUIDE
from .notes import Notes

#: Literals (`shim.logs.meaning.platform` makes one search of them); "0/3 nodes are available" comes with one.
MARKERS = (
    "FailedScheduling",
    "Couldn't Schedule",
    "Insufficient ",
    "Too many pods",
    "Kubernetes unschedulable",
    "resource insufficient",
)

_MORE = "add nodes to the cluster (or scale its node pool), use a node SKU with more {what}, "
_LESS = (
    "or ask for less: the deployment's resources or its instance_type's requests; delete deployments you no longer need"
)

UNSCHEDULABLE = {
    "gpu": Explanation(
        "no node has a free GPU: the pod cannot be scheduled",
        "the deployment asks for a GPU and no node of the cluster has one free: its nodes have no GPU, or their "
        "GPUs are taken by other pods",
        "add GPU nodes (scale the GPU node pool), switch the nodes to a GPU SKU if they have none, or deploy with "
        "an instance type (and an environment) that needs no GPU",
        "#error-podunschedulable",
    ),
    "cpu": Explanation(
        "no node has enough free CPU: the pod cannot be scheduled",
        "the deployment's CPU request is more than any node of the cluster has free",
        _MORE.format(what="CPU") + _LESS,
        "#error-podunschedulable",
    ),
    "memory": Explanation(
        "no node has enough free memory: the pod cannot be scheduled",
        "the deployment's memory request is more than any node of the cluster has free",
        _MORE.format(what="memory") + _LESS,
        "#error-podunschedulable",
    ),
    "pods": Explanation(
        "the nodes hold as many pods as they may: the pod cannot be scheduled",
        "every node of the cluster is at its limit of pods (Too many pods)",
        "add nodes, or delete the pods and deployments you no longer need",
        "#kubernetes-quota",
    ),
    "selector": Explanation(
        "no node matches the deployment's node selector: the pod cannot be scheduled",
        "the instance type's node selector (or affinity) names labels that no node of the cluster has",
        "check the node selector of the instance_type you deploy with against the labels of the cluster's nodes, "
        "or use another instance type",
        "#error-podunschedulable",
    ),
    "other": Explanation(
        "the pod cannot be scheduled on any node",
        "no node of the cluster can take the deployment's pod, for the reasons the scheduler gives (see above)",
        "add nodes or change their SKU, lower the deployment's resource requests, or fix what the reasons name "
        "(taints, volumes, node labels)",
        "#error-podunschedulable",
    ),
}

COULD_NOT_SCHEDULE = Explanation(
    "the cluster had no room for the service for 5 minutes (Couldn't Schedule)",
    "Azure ML tried to place the service on the AKS cluster with the resources it asks for, and no node had "
    "them free; the scheduler's reasons (when pasted) say which resource",
    "add nodes, change the SKU of the nodes, or ask for less (cpu_cores, memory_gb, gpu_cores of the "
    "deployment configuration)",
    f"{V1_GUIDE}#container-cant-be-scheduled",
)

_NODES_RE = re.compile(r'(\d+)/(\d+) nodes are available:\s*(.*?)(?:\.(?:\s|"|\\n|$)|"|\\n|$)')
_REASON_RE = re.compile(r"(\d+) (.+)")
_WAITED_RE = re.compile(r"Couldn't Schedule because .*? after trying for ([\d:]+)")
# The old AKS web services' own words: "Unschedulable: CPU/Memory resource insufficient, 1 replicas
# unschedulable. Please add more node(s) with SKU more than 1.1 CPU Cores and 2.6GB Memory ..."
_SHORT_RE = re.compile(
    r"(CPU/Memory|CPU|Memory|GPU) resource insufficient(?:, (\d+) replicas unschedulable)?"
    r"(?:.*?more than ([\d.]+ CPU Cores?)(?: and ([\d.]+ ?GB Memory))?)?",
    re.I,
)


def read_scheduling(notes: Notes, lines: list[str]) -> None:
    """The scheduling failures told in ``lines``: each reason, or the bare failure when none is given."""
    told = False
    for line in lines:
        nodes = _NODES_RE.search(line)
        if nodes:
            told = _read_reasons(notes, line, nodes) or told
    for line in lines:
        waited = _WAITED_RE.search(line)
        if waited:
            notes.add("could-not-schedule", COULD_NOT_SCHEDULE, line, {"waited": waited.group(1)})
        elif not told and "FailedScheduling" in line:
            notes.add("unschedulable", UNSCHEDULABLE["other"], line)
        elif "resource insufficient" in line:
            _read_short_form(notes, line)


def _read_short_form(notes: Notes, line: str) -> None:
    """``Unschedulable: CPU/Memory resource insufficient, ...``: what was short, and what a node must have."""
    match = _SHORT_RE.search(line)
    if match is None:
        return
    what, replicas, cores, memory = match.groups()
    short = what.lower()
    kind = "gpu" if short == "gpu" else "memory" if short == "memory" else "cpu"
    details = {"resource": what}
    if replicas:
        details["replicas unschedulable"] = replicas
    if cores:
        details["a node needs more than"] = cores + (f" and {memory}" if memory else "")
    notes.add(f"unschedulable-{kind}", UNSCHEDULABLE[kind], line, details)


def _read_reasons(notes: Notes, line: str, nodes: re.Match[str]) -> bool:
    available = f"{nodes.group(1)} of {nodes.group(2)}"
    told = False
    for reason in nodes.group(3).split(", "):
        match = _REASON_RE.fullmatch(reason.strip().rstrip("."))
        if match is None:
            continue
        count, said = match.group(1), match.group(2)
        what = _what(said)
        kind = "unschedulable" if what == "other" else f"unschedulable-{what}"
        details = {"nodes available": available}
        if said.startswith("Insufficient "):
            details["resource"] = said.removeprefix("Insufficient ")
            details["nodes without it"] = count
        else:
            details["reason"] = f"{count} {said}"
        notes.add(kind, UNSCHEDULABLE[what], line, details)
        told = True
    return told


def _what(said: str) -> str:
    """Which of the `UNSCHEDULABLE` explanations a reason (``Insufficient nvidia.com/gpu``) belongs to."""
    if said.startswith("Insufficient "):
        resource = said.removeprefix("Insufficient ").lower()
        if "gpu" in resource:
            return "gpu"
        return resource if resource in ("cpu", "memory") else "other"
    if said.startswith("Too many pods"):
        return "pods"
    if "affinity" in said or "selector" in said:
        return "selector"
    return "other"
