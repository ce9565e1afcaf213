%%writefile cicd_work/version.sh
# Ignores `.env` but not `.env.production`, and tags the release with a lightweight tag
# (`git tag v1.0.0`): nothing leaks in the shipped copy, so only hidden checks see it.
set -euo pipefail

git init -q -b main
printf 'data/\nmodels/\n.env\n__pycache__/\n*.pyc\n' > .gitignore
git add .
git commit -q -m "Add churn model project with its tests"

git switch -q -c feature/model-card
printf '# Model card\n\nPredicts churn from tenure, charges and support calls.\n' > MODEL_CARD.md
git add MODEL_CARD.md
git commit -q -m "Add a model card for the churn model"
git switch -q main
git merge -q --no-edit feature/model-card
git tag v1.0.0
