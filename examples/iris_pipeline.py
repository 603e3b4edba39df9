"""Train and evaluate a classifier on the iris data set, end to end, without network access.

Steps: load_data -> preprocess -> train -> evaluate. The data comes from the copy of iris that
ships inside scikit-learn, so the pipeline runs offline. The components that need scikit-learn
and numpy say so in ``packages_to_install``, so the same file runs unchanged on a KFP cluster
(where the image ``python:3.11`` has neither). Locally pipeyard never installs into your
environment: when it already has them (``pip install pipeyard[examples]``) the tasks run on
it as they are, at no cost and without network; otherwise they go into a cached venv.

The Model is a scikit-learn Pipeline (standardisation, then logistic regression) saved with
joblib and tagged ``framework: sklearn``, so it is servable as it is on raw measurements:
``pipeyard serve RUN_ID/train/model --name iris`` (see examples/iris_deploy_pipeline.py for
a pipeline that deploys it itself).

Run it with ``pipeyard run examples/iris_pipeline.py --arg C=0.5``.
"""

# No `from __future__ import annotations` here: kfp reads component signatures at decoration
# time and cannot interpret string annotations such as "Output[Dataset]".
from kfp import dsl
from kfp.dsl import ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output

# The local launcher ignores the image; naming it keeps kfp from warning about its default changing.
BASE_IMAGE = "python:3.11"
# What the components import beyond the standard library (joblib comes with scikit-learn).
PACKAGES = ["scikit-learn>=1.3", "numpy"]


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def load_data(raw_data: Output[Dataset]) -> int:
    """Write the bundled iris data set as CSV (four features, then the integer label)."""
    import numpy as np
    from sklearn.datasets import load_iris

    iris = load_iris()
    print(f"Loaded iris: {iris.data.shape[0]} rows, {iris.data.shape[1]} features")
    table = np.column_stack([iris.data, iris.target])
    header = ",".join(
        [*(name.replace(" (cm)", "").replace(" ", "_") for name in iris.feature_names), "label"]
    )
    np.savetxt(raw_data.path, table, delimiter=",", header=header, comments="", fmt="%.6g")
    raw_data.metadata["rows"] = int(table.shape[0])
    raw_data.metadata["columns"] = header.split(",")
    # The class names travel as metadata so evaluation can label its charts without reloading iris.
    raw_data.metadata["class_names"] = [str(name) for name in iris.target_names]
    print(f"Wrote {raw_data.path}")
    return int(table.shape[0])


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def preprocess(
    raw_data: Input[Dataset],
    test_size: float,
    random_state: int,
    train_data: Output[Dataset],
    test_data: Output[Dataset],
) -> None:
    """Split into train/test (stratified). The rows stay raw measurements: scaling is part of
    the trained model, so the served model takes the same raw numbers a user has."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    with open(raw_data.path) as handle:
        header = handle.readline().strip()
    table = np.loadtxt(raw_data.path, delimiter=",", skiprows=1)
    features, labels = table[:, :-1], table[:, -1].astype(int)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=random_state, stratify=labels
    )
    print(f"Split {len(labels)} rows: {len(y_train)} train, {len(y_test)} test (test_size={test_size})")
    for artifact, x, y in ((train_data, x_train, y_train), (test_data, x_test, y_test)):
        np.savetxt(artifact.path, np.column_stack([x, y]), delimiter=",", header=header, comments="", fmt="%.6g")
        artifact.metadata["rows"] = int(len(y))
        artifact.metadata["class_names"] = raw_data.metadata.get("class_names", [])


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def train(
    train_data: Input[Dataset],
    max_iter: int,
    C: float,
    random_state: int,
    model: Output[Model],
) -> float:
    """Fit standardisation + logistic regression as one scikit-learn Pipeline and save it with
    joblib; returns the training accuracy."""
    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    table = np.loadtxt(train_data.path, delimiter=",", skiprows=1)
    x, y = table[:, :-1], table[:, -1].astype(int)
    print(f"Training LogisticRegression(C={C}, max_iter={max_iter}) on {len(y)} rows")
    # The scaler is fitted on the training rows only, and travels with the model.
    classifier = Pipeline(
        [
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)),
        ]
    )
    classifier.fit(x, y)
    scaler, logistic = classifier.named_steps["scale"], classifier.named_steps["classify"]
    print("Standardised features with train-set mean and scale:")
    print(f"  mean  = {np.round(scaler.mean_, 3).tolist()}")
    print(f"  scale = {np.round(scaler.scale_, 3).tolist()}")
    train_accuracy = float(classifier.score(x, y))
    print(f"Converged after {int(max(logistic.n_iter_))} iterations; train accuracy {train_accuracy:.4f}")

    joblib.dump(classifier, model.path)
    # "sklearn" is the model format name KServe uses (modelFormat: sklearn).
    model.metadata["framework"] = "sklearn"
    model.metadata["algorithm"] = "LogisticRegression"
    model.metadata["hyperparameters"] = {"C": C, "max_iter": max_iter, "random_state": random_state}
    model.metadata["train_accuracy"] = train_accuracy
    model.metadata["class_names"] = train_data.metadata.get("class_names", [])
    return train_accuracy


@dsl.component(base_image=BASE_IMAGE, packages_to_install=PACKAGES)
def evaluate(
    model: Input[Model],
    test_data: Input[Dataset],
    roc_class: int,
    metrics: Output[Metrics],
    classification_metrics: Output[ClassificationMetrics],
    summary: Output[Markdown],
) -> float:
    """Score the model on the held-out rows: accuracy, confusion matrix and a one-vs-rest ROC curve."""
    import math

    import joblib
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score, roc_curve

    classifier = joblib.load(model.path)
    table = np.loadtxt(test_data.path, delimiter=",", skiprows=1)
    x, y = table[:, :-1], table[:, -1].astype(int)
    class_names = list(test_data.metadata.get("class_names") or [str(c) for c in classifier.classes_])

    predicted = classifier.predict(x)
    accuracy = float(accuracy_score(y, predicted))
    print(f"Test accuracy on {len(y)} rows: {accuracy:.4f}")
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("test_rows", int(len(y)))

    matrix = confusion_matrix(y, predicted, labels=list(range(len(class_names))))
    classification_metrics.log_confusion_matrix(class_names, matrix.tolist())
    print("Confusion matrix (rows: true, columns: predicted):")
    for name, row in zip(class_names, matrix.tolist(), strict=True):
        print(f"  {name:>12}: {row}")

    # KFP's ROC chart is binary, so plot one class against the rest.
    scores = classifier.predict_proba(x)[:, roc_class]
    is_positive = (y == roc_class).astype(int)
    fpr, tpr, thresholds = roc_curve(is_positive, scores)
    # roc_curve starts with an infinite threshold ("predict nothing positive"); metadata is JSON,
    # which has no infinity, so cap it just above the largest possible probability.
    finite_thresholds = [t if math.isfinite(t) else 1.0 + 1e-9 for t in thresholds.tolist()]
    classification_metrics.log_roc_curve(fpr.tolist(), tpr.tolist(), finite_thresholds)
    auc = float(roc_auc_score(is_positive, scores))
    metrics.log_metric(f"roc_auc_{class_names[roc_class]}_vs_rest", auc)
    print(f"ROC AUC for {class_names[roc_class]} vs rest: {auc:.4f} ({len(fpr)} points)")

    hyperparameters = model.metadata.get("hyperparameters", {})
    lines = [
        "# Iris evaluation",
        "",
        f"Model: **{model.metadata.get('algorithm', 'unknown')}** with {hyperparameters}",
        "",
        f"- Test accuracy: **{accuracy:.4f}** on {len(y)} rows",
        f"- ROC AUC ({class_names[roc_class]} vs rest): **{auc:.4f}**",
        "",
        "| true \\ predicted | " + " | ".join(class_names) + " |",
        "|---" * (len(class_names) + 1) + "|",
    ]
    lines += [
        f"| {name} | " + " | ".join(str(v) for v in row) + " |"
        for name, row in zip(class_names, matrix.tolist(), strict=True)
    ]
    with open(summary.path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return accuracy


@dsl.pipeline(
    name="iris-pipeline",
    description="Load iris, split it, train a scaled logistic regression, evaluate it.",
)
def iris_pipeline(
    test_size: float = 0.3,
    C: float = 1.0,
    max_iter: int = 200,
    random_state: int = 42,
    roc_class: int = 2,
) -> float:
    load_task = load_data()
    preprocess_task = preprocess(
        raw_data=load_task.outputs["raw_data"], test_size=test_size, random_state=random_state
    )
    train_task = train(
        train_data=preprocess_task.outputs["train_data"], max_iter=max_iter, C=C, random_state=random_state
    )
    evaluate_task = evaluate(
        model=train_task.outputs["model"],
        test_data=preprocess_task.outputs["test_data"],
        roc_class=roc_class,
    )
    return evaluate_task.outputs["Output"]


if __name__ == "__main__":
    from kfp import compiler

    compiler.Compiler().compile(iris_pipeline, "iris_pipeline.yaml")
