# A three-step chain with metadata: runs, in order, with the lineage its parameters say.
import dagster as dg

LINEAGE = {"raw": [], "clean": ["raw"], "model": ["clean", "raw"]}
METADATA = {"raw": {"num_rows": 4}, "clean": {"num_rows": 3}}


def build():
    @dg.asset
    def raw(context: dg.AssetExecutionContext) -> list:
        context.add_output_metadata({"num_rows": 4})
        return [1, 2, None, 4]

    @dg.asset
    def clean(context: dg.AssetExecutionContext, raw: list) -> list:
        kept = [x for x in raw if x is not None]
        context.add_output_metadata({"num_rows": len(kept)})
        return kept

    @dg.asset
    def model(clean: list, raw: list) -> float:
        return sum(clean) / len(raw)

    return [raw, clean, model]
