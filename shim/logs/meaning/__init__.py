"""What a record means, whatever format it was read from: the same message reaches here as a JSON line or a text line.

``messages.on_record`` sends a record by its logger to ``noise`` (the server's known start-up noise, noted as
harmless), ``server`` (azmlinfsrv: init, exceptions, its access lines; and bare records holding a traceback),
``gunicorn`` (workers booting, ending, the access log) or ``old_images`` (runit's and supervisord's crash lines);
``shim_events`` takes the shim's own events; ``exceptions`` tells whether a record holds a traceback, in whatever
form it was pasted, which, and the shared diagnosis of it (`shim.models.known_failures`).

A bare record (a line no reader knew) also goes to ``platform``, which reads what the platform says around the
container: ``pod_state`` (``kubectl describe pod``), ``events`` (Kubernetes and get-logs events), ``scheduling``,
``azure_errors`` with ``azure_codes`` (the Azure ML error codes of the CLI and SDK), ``build_logs`` (conda and
pip), ``exit_codes`` (what a container's exit code means); ``notes`` gathers one record's findings.
``http_status`` gives the troubleshooting guide's meaning of a status. Each updates the
`shim.logs.tally.totals.Tally`; none reads a line.
"""
