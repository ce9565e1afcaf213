%%writefile cicd_work/version.sh
# Commits everything first and writes .gitignore afterwards, untracking data, models and
# .env with `git rm --cached`: the first commit still holds the data and the token.
set -euo pipefail

git init -q -b main
git add .
git commit -q -m "Add churn model project"
cat > .gitignore <<'END'
data/
models/
.env*
__pycache__/
*.pyc
END
git rm -r -q --cached data models .env
git add .gitignore
git commit -q -m "Stop tracking data, models and secrets"

git switch -q -c feature/model-card
printf '# Model card\n\nPredicts churn from tenure, charges and support calls.\n' > MODEL_CARD.md
git add MODEL_CARD.md
git commit -q -m "Add a model card"
git switch -q main
git merge -q --no-edit feature/model-card
git tag -a v1.0.0 -m "Churn model v1.0.0"
