"""What a record means, whatever format it was read from: the same message reaches here as a JSON line or a text line.

``messages.on_record`` sends a record by its logger to ``server`` (azmlinfsrv: init, exceptions, its access
lines) or ``gunicorn`` (workers booting, ending, the access log); ``shim_events`` takes the shim's own events.
Each updates the `shim.logs.tally.totals.Tally`; none reads a line.
"""
