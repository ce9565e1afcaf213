%%writefile docker_work/.dockerignore
# Excludes .env but not .env.production: the production secrets are still sent to the engine.
.env
.git
.gitignore
.venv
**/__pycache__
**/.ipynb_checkpoints
data
notebooks
tests
