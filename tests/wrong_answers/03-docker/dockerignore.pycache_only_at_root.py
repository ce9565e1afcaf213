%%writefile docker_work/.dockerignore
# Writes __pycache__ and *.pyc as in .gitignore: in a .dockerignore they match only at the context root.
.env
.env.*
.git
.gitignore
.venv
__pycache__
*.pyc
**/.ipynb_checkpoints
data
notebooks
tests
train.py
