"""What the log adds up to, bounded (`shim.logs.bounds`): `totals.Tally` holds the parts and gives the result.

``sources`` counts requests per input, ``histogram`` keeps latencies, ``workers`` the workers and their
``init()``, ``failures`` failures and timeouts, ``incidents`` slow runs and how workers ended, ``explained`` the
platform's failures with their meaning, ``harmless`` the server's known noise, ``timeline`` the first and last
timestamps, ``sizing`` the observed load and the replicas it needs. None of them knows a log format: the readers
did that.
"""
