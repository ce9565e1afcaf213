%%writefile cicd_work/version.sh
# Everything is in place, but the commit subjects are "init" and "wip": a history nobody
# can read when looking for the change that broke the model.
set -euo pipefail

git init -q -b main
printf 'data/\nmodels/\n.env*\n__pycache__/\n*.pyc\n' > .gitignore
git add .
git commit -q -m "init"

git switch -q -c feature/model-card
printf '# Model card\n\nPredicts churn from tenure, charges and support calls.\n' > MODEL_CARD.md
git add MODEL_CARD.md
git commit -q -m "wip"
git switch -q main
git merge -q --no-edit feature/model-card
git tag -a v1.0.0 -m "Churn model v1.0.0"
