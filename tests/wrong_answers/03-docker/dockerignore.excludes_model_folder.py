%%writefile docker_work/.dockerignore
# Excludes model/ ("binaries do not belong in a build"), so the image has no model to load.
.env
.env.*
.git
.venv
**/__pycache__
data
notebooks
tests
model
