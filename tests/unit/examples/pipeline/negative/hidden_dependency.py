# finding: asset clean: depends on the wrong upstream assets
import dagster as dg

LINEAGE = {"raw": [], "clean": ["raw"]}


def build():
    @dg.asset
    def raw() -> list:
        return [1, 2]

    @dg.asset
    def clean() -> list:  # reads the data again instead of depending on raw
        return [1, 2]

    return [raw, clean]
