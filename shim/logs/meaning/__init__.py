"""What a record means, whatever format it was read from: the same message reaches here as a JSON line or a text line.

``messages.on_record`` sends a record by its logger to ``noise`` (the server's known start-up noise, noted as
harmless), ``server`` (azmlinfsrv: init, exceptions, its access lines; and bare records holding a traceback)
or ``gunicorn`` (workers booting, ending, the access log); ``shim_events`` takes the shim's own events;
``exceptions`` tells whether a record holds a traceback, in whatever form it was pasted, and which. Each
updates the `shim.logs.tally.totals.Tally`; none reads a line.
"""
