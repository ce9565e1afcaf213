%%writefile docker_work/.dockerignore
# Keeps data and caches out but forgets the secrets files entirely.
.git
.venv
**/__pycache__
**/.ipynb_checkpoints
data
notebooks
tests
