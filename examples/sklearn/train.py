"""Train a small scikit-learn regression model and save it the way Azure ML lays out a registered model.

    python examples/sklearn/train.py OUT_DIR [--name NAME] [--version N]

writes ``OUT_DIR/azureml-models/NAME/N/model/sklearn_regression_model.pkl``. On a v2 managed online
endpoint a model registered from a folder named ``model`` keeps that folder under AZUREML_MODEL_DIR, which
points at ``.../azureml-models/NAME/N``; so the entry script loads
``$AZUREML_MODEL_DIR/model/sklearn_regression_model.pkl``.

The data is scikit-learn's bundled diabetes data set (442 rows, 10 features): it ships inside the package,
so nothing is downloaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split

MODEL_FILE = "sklearn_regression_model.pkl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder that receives azureml-models/NAME/VERSION/model/")
    parser.add_argument("--name", default="sklearn-diabetes", help="registered model name")
    parser.add_argument("--version", type=int, default=1, help="registered model version")
    args = parser.parse_args(argv)

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    model = Ridge(alpha=0.1).fit(X_train, y_train)
    r2 = model.score(X_test, y_test)

    version_dir = args.out / "azureml-models" / args.name / str(args.version)
    model_path = version_dir / "model" / MODEL_FILE
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)

    print(f"trained Ridge on the diabetes data: {X.shape[1]} features, R^2 on held-out rows = {r2:.3f}")
    print(f"saved {model_path}")
    print(f"AZUREML_MODEL_DIR would be {version_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
