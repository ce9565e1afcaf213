# Prints, warns and logs to stderr from a step: the run succeeds and none of it leaks out.
import logging
import sys
import warnings

import dagster as dg

LINEAGE = {"noisy": []}
METADATA = {}


def build():
    @dg.asset
    def noisy(context: dg.AssetExecutionContext) -> int:
        print("to stdout")
        print("to stderr", file=sys.stderr)
        warnings.warn("a warning", stacklevel=1)
        logging.getLogger("student").warning("a logged warning")
        context.log.warning("a Dagster log line")
        return 1

    return [noisy]
