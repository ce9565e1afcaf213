"""The churn-prediction service (see main.py)."""
