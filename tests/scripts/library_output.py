"""A script whose libraries print outside the stream: a warnings.warn, and a logger with its own stderr handler."""

import logging
import sys
import warnings

# As mlflow and others do at import: a console handler of their own, and no propagation.
library = logging.getLogger("somelib")
library.addHandler(logging.StreamHandler(sys.stderr))
library.setLevel(logging.INFO)
library.propagate = False


def init():
    library.info("somelib ready")


def run(raw_data):
    warnings.warn("this estimator was saved with version 1.2 and is loaded with 1.5", UserWarning, stacklevel=1)
    library.info("somelib scored %d characters", len(raw_data))
    return "ok"
