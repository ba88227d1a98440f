"""Rehearse a deployment offline: ``score-shim check --deployment`` and ``serve --deployment``.

A managed (or Kubernetes) online deployment YAML says everything the container will be: the code folder,
the scoring script, the model and how it is registered, the environment's conda file, the environment
variables, the request timeout, the probes and the instance size. This part reads it (``spec``), lays the
code and the model out in a temporary folder the way Azure ML mounts them (``layout``), and compares what
the script and the model need (``script_imports``, ``pickle_scan``, ``model_needs``) with what the
environment declares (``environment``, ``distributions``), in seconds and without Docker.

It runs in the user's terminal, never in the server's worker: it may import ``shim.settings``,
``shim.stream``, ``shim.models`` and ``shim.runtime`` (and optional packages such as PyYAML and
azure-ai-ml, imported where they are used); ``shim.cli`` imports it, it never imports ``shim.cli`` or
``shim.logs``.
"""
