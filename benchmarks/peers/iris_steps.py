"""The iris example's four steps as plain functions, for the peers that run Python callables.

They do what ``examples/iris_pipeline.py``'s components do (load, split, train, evaluate) with
the same libraries, passing file paths between steps the way KFP passes artifacts, so the peers
pay the same imports and file I/O. Imports stay inside the functions, as in the components.
"""

from __future__ import annotations

import json
import os


def load_data(out_dir: str) -> str:
    import numpy as np
    from sklearn.datasets import load_iris

    iris = load_iris()
    path = os.path.join(out_dir, "raw.csv")
    np.savetxt(path, np.column_stack([iris.data, iris.target]), delimiter=",", fmt="%.6g")
    return path


def preprocess(raw_path: str, out_dir: str) -> tuple[str, str]:
    import numpy as np
    from sklearn.model_selection import train_test_split

    table = np.loadtxt(raw_path, delimiter=",")
    x, y = table[:, :-1], table[:, -1].astype(int)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=42, stratify=y)
    train_path, test_path = os.path.join(out_dir, "train.csv"), os.path.join(out_dir, "test.csv")
    np.savetxt(train_path, np.column_stack([x_train, y_train]), delimiter=",", fmt="%.6g")
    np.savetxt(test_path, np.column_stack([x_test, y_test]), delimiter=",", fmt="%.6g")
    return train_path, test_path


def train(train_path: str, out_dir: str) -> str:
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    table = np.loadtxt(train_path, delimiter=",")
    model = Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression(C=1.0, max_iter=200))])
    model.fit(table[:, :-1], table[:, -1].astype(int))
    path = os.path.join(out_dir, "model.joblib")
    joblib.dump(model, path)
    return path


def evaluate(model_path: str, test_path: str, out_dir: str) -> float:
    import joblib
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix

    model = joblib.load(model_path)
    table = np.loadtxt(test_path, delimiter=",")
    y = table[:, -1].astype(int)
    predicted = model.predict(table[:, :-1])
    accuracy = float(accuracy_score(y, predicted))
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump({"accuracy": accuracy, "confusion": confusion_matrix(y, predicted).tolist()}, handle)
    return accuracy
