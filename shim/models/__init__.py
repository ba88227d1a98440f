"""Where the model is: ``Model.get_model_path`` without azureml-core, the probe and the diagnosis.

``paths`` resolves model names the way azureml-core 1.61 does (parity-tested against it); ``probe`` looks
at ``AZUREML_MODEL_DIR`` before ``init()`` runs; ``diagnosis`` explains a failed start-up in plain words;
``azureml_hook`` logs the script's own azureml-core calls without importing azureml-core. The runtime
calls all of it inside the worker, and ``score-shim check`` calls it in the terminal: it may import
``shim.settings`` and ``shim.stream``, never ``shim.runtime``, ``shim.cli`` or ``shim.logs``.
"""
