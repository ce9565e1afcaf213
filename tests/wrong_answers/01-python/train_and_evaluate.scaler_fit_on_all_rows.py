# Scales the whole dataset before splitting: the test rows leak into the scaler.
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def train_and_evaluate(df: pd.DataFrame, target: str = "churned", seed: int = 0) -> dict:
    X = df.drop(columns=[target])
    y = df[target]
    scaler = StandardScaler().fit(X)
    X_scaled = pd.DataFrame(scaler.transform(X), columns=X.columns)
    X_train, X_test, y_train, y_test = train_test_split(
        X_scaled, y, test_size=0.25, random_state=seed, stratify=y
    )
    classifier = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    predictions = classifier.predict(X_test)
    return {
        "accuracy": float(accuracy_score(y_test, predictions)),
        "f1": float(f1_score(y_test, predictions)),
        "n_train": len(X_train),
        "n_test": len(X_test),
        "model": make_pipeline(scaler, classifier),
    }
