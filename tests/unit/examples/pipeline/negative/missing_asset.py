# finding: there is no asset named clean
import dagster as dg

LINEAGE = {"raw": [], "clean": ["raw"]}


def build():
    @dg.asset
    def raw() -> list:
        return [1, 2]

    @dg.asset
    def cleaned(raw: list) -> list:
        return raw

    return [raw, cleaned]
