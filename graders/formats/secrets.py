"""Which names say they hold a secret: one rule for every artefact that sets variables
(a Dockerfile's ENV and ARG, a Compose file's environment, a Kubernetes env or ConfigMap)."""

from __future__ import annotations

import re

SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL", re.I
)


def names_a_secret(name: str) -> bool:
    """``AWS_ACCESS_KEY_ID``, ``db_password``, ``HF_TOKEN``: yes; ``TOKENIZER`` too (a name
    that says token is worth a second look); ``LOG_LEVEL``: no."""
    return SECRET_NAME.search(name) is not None
