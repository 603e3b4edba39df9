"""Model references and formats: what a MODEL argument names, and how its format is found."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from pipeyard.errors import InvalidArgument
from pipeyard.serving.formats import detect_format, normalise_framework, resolve_model


def test_format_from_files(tmp_path: Path) -> None:
    pickled = tmp_path / "model"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2]}))
    assert detect_format(pickled) == "sklearn"
    (tmp_path / "m.joblib").write_bytes(b"anything")
    assert detect_format(tmp_path / "m.joblib") == "sklearn"
    lgb = tmp_path / "lgb.txt"
    lgb.write_text("tree\nversion=v4\nnum_class=1\n")
    assert detect_format(lgb) == "lightgbm"
    xgb = tmp_path / "xgb.json"
    xgb.write_text(json.dumps({"learner": {"attributes": {}}, "version": [2, 1, 0]}))
    assert detect_format(xgb) == "xgboost"
    mlflow_dir = tmp_path / "mlflow-model"
    mlflow_dir.mkdir()
    (mlflow_dir / "MLmodel").write_text("flavors: {}\n")
    assert detect_format(mlflow_dir) == "mlflow"
    holder = tmp_path / "dir-with-pickle"
    holder.mkdir()
    (holder / "model.pkl").write_bytes(pickle.dumps([1]))
    assert detect_format(holder) == "sklearn"


def test_unknown_format_names_the_understood_ones(tmp_path: Path) -> None:
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"\x00\x01\x02 nothing known")
    with pytest.raises(InvalidArgument) as err:
        detect_format(blob)
    message = str(err.value)
    assert str(blob) in message
    for name in ("scikit-learn", "XGBoost", "LightGBM", "MLflow", "framework"):
        assert name in message
    with pytest.raises(InvalidArgument, match="unknown model format 'onnx'.*sklearn, xgboost, lightgbm, mlflow"):
        normalise_framework("onnx")


def test_framework_metadata_and_aliases(tmp_path: Path) -> None:
    assert normalise_framework("scikit-learn") == normalise_framework(" SKLearn ") == "sklearn"
    assert normalise_framework("lgbm") == "lightgbm"
    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"\x00 opaque")
    # An explicit format wins over files that tell nothing.
    assert resolve_model(str(blob), None, tmp_path / "cache", framework="xgboost").framework == "xgboost"


def test_missing_files_and_empty_reference(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="no model files at"):
        resolve_model(str(tmp_path / "nope"), None, tmp_path / "cache")
    with pytest.raises(InvalidArgument, match="RUN_ID/TASK/OUTPUT"):
        resolve_model("  ", None, tmp_path / "cache")


def test_file_uri_is_a_local_path(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.write_bytes(pickle.dumps([1]))
    source = resolve_model(f"file://{model}", None, tmp_path / "cache")
    assert source.path == model and source.framework == "sklearn" and source.run_id is None
