# finding: asset raw: metadata 'num_rows' has the wrong value
import dagster as dg

LINEAGE = {"raw": []}
METADATA = {"raw": {"num_rows": 3}}


def build():
    @dg.asset
    def raw(context: dg.AssetExecutionContext) -> list:
        context.add_output_metadata({"num_rows": 2})
        return [1, 2, 3]

    return [raw]
