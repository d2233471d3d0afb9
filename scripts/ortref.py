"""ONNX Runtime references for the model-making scripts (export_torchvision.py, make_controlflow_models.py,
make_quant_models.py):
they run a model in ONNX Runtime through ../shared/tools/ort_run.js (node with npm's onnxruntime-node,
installed by scripts/setup-ort.sh into ORT_DIR), since ORT's Python package is not installable here."""
import json
import os
import subprocess
import tempfile

import numpy as np


def default_ort_run():
    """../shared/tools/ort_run.js beside the repository."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), "shared", "tools", "ort_run.js")


def ort_version():
    """The version of the onnxruntime-node package in ORT_DIR (or the working folder), or "unknown"."""
    pkg = os.path.join(os.environ.get("ORT_DIR", os.getcwd()), "node_modules", "onnxruntime-node", "package.json")
    try:
        with open(pkg) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        return "unknown"


def ort_outputs(ort_run, model_path, inputs):
    """Runs the model in ONNX Runtime on the numpy inputs (in the model's input order); returns its outputs
    and their names."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, a in enumerate(inputs):
            files.append(os.path.join(tmp, f"input_{i}.npy"))
            np.save(files[-1], a)
        run = subprocess.run(["node", ort_run, model_path, tmp, *files], capture_output=True, text=True)
        line = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
        if run.returncode != 0:
            raise SystemExit(f"{model_path}: ONNX Runtime failed (exit {run.returncode}): {line or run.stderr.strip()[-2000:]}")
        report = json.loads(line)
        return [np.load(os.path.join(tmp, o["file"])) for o in report["outputs"]], [o["name"] for o in report["outputs"]]
