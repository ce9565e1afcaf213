# finding: not written yet: the placeholder is still there
LINEAGE = {"raw": []}


def build():
    raise NotImplementedError()
