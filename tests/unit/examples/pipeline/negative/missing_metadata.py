# finding: asset raw: has no metadata entry 'num_rows'
import dagster as dg

LINEAGE = {"raw": []}
METADATA = {"raw": {"num_rows": 3}}


def build():
    @dg.asset
    def raw() -> list:
        return [1, 2, 3]

    return [raw]
