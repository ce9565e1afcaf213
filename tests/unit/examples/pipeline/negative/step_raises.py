# finding: step clean: raised ValueError: a negative distance in row 3
import dagster as dg

LINEAGE = {"raw": [], "clean": ["raw"]}


def build():
    @dg.asset
    def raw() -> list:
        return [1, -2]

    @dg.asset
    def clean(raw: list) -> list:
        if min(raw) < 0:
            raise ValueError("a negative distance in row 3")
        return raw

    return [raw, clean]
