"""What the log adds up to, bounded (`shim.logs.bounds`): `totals.Tally` holds the parts and gives the result.

``sources`` counts requests per input, ``histogram`` keeps latencies, ``workers`` the workers and their
``init()``, ``failures`` failures and timeouts, ``incidents`` slow runs and how workers ended, ``timeline``
the first and last timestamps. None of them knows a log format: the readers did that.
"""
