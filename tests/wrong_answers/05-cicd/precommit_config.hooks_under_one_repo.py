%%writefile cicd_work/pre-commit-config.yaml
# Lists every hook under the ruff repository: pre-commit would fail to find
# check-added-large-files there, because it lives in pre-commit-hooks.
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: "v0.6.9"
    hooks:
      - id: ruff
      - id: ruff-format
      - id: check-added-large-files
