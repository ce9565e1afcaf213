# finding: the pipeline's process died: exited with status 3
import os

import dagster as dg

LINEAGE = {"quitter": []}


def build():
    @dg.asset
    def quitter() -> int:
        os._exit(3)

    return [quitter]
