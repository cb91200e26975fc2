"""One `fast` tile through TotalSegmentator's network on other CPU runtimes, in one run.

Run: ``PYTHONPATH=src:EXTRA .venv/bin/python benchmarks/totalseg_cpu_backends.py [--rounds 3]``
where EXTRA holds onnx, onnxruntime and openvino (``pip install --target EXTRA ...``; they are
not Iris dependencies). The network is the full-size stand-in of the 3 mm model (published
architecture, random weights, `iris3d.segment.totalseg.standin`) on one 112x112x128 tile, the
unit a `fast` study is made of (8 tiles for a 512x512x400 CT). Each runtime runs once per round,
the rounds interleaved so that a change of load on the shared machine hits all of them alike;
the table gives the median, the ratio to PyTorch eager in the same run, and how far the class
scores and the labels (arg-max) are from eager fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from iris3d.contracts import Quality
from iris3d.segment.totalseg.predictor import load_model
from iris3d.segment.totalseg.standin import build_standin

Runner = Callable[[np.ndarray], np.ndarray]


def fast_network(folder: Path) -> torch.nn.Module:
    built = build_standin(folder, qualities=(Quality.FAST,))
    network: torch.nn.Module = load_model(built[0][0], torch.device("cpu")).predictor.network
    return network.eval()


def eager(network: torch.nn.Module) -> Runner:
    def run(tile: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return network(torch.from_numpy(tile)).numpy()
    return run


def compiled(network: torch.nn.Module) -> Runner:
    fn = torch.compile(network)

    def run(tile: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return fn(torch.from_numpy(tile)).numpy()  # type: ignore[no-any-return]
    return run


def export_onnx(network: torch.nn.Module, tile: np.ndarray, path: Path) -> Path:
    torch.onnx.export(network, (torch.from_numpy(tile),), str(path), dynamo=False,
                      input_names=["x"], output_names=["y"], opset_version=17)
    return path


def onnxruntime_runner(onnx_path: Path) -> Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def run(tile: np.ndarray) -> np.ndarray:
        return session.run(["y"], {"x": tile})[0]  # type: ignore[no-any-return]
    return run


def openvino_runner(onnx_path: Path, precision: str) -> Runner:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(onnx_path))
    compiled_model = core.compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"})
    request = compiled_model.create_infer_request()

    def run(tile: np.ndarray) -> np.ndarray:
        return np.asarray(request.infer({0: tile})[0])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    tile = rng.standard_normal((1, 1, 112, 112, 128)).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        network = fast_network(Path(folder))
        onnx_path = export_onnx(network, tile, Path(folder) / "fast.onnx")
        runners: dict[str, Runner] = {
            "torch eager fp32": eager(network),
            "torch.compile fp32": compiled(network),
            "onnxruntime fp32": onnxruntime_runner(onnx_path),
            "openvino f32": openvino_runner(onnx_path, "f32"),
            "openvino bf16": openvino_runner(onnx_path, "bf16"),
        }
        reference = runners["torch eager fp32"](tile)
        warm: dict[str, np.ndarray] = {}
        for name, run in runners.items():  # first call: compilation, kernel selection
            start = time.perf_counter()
            warm[name] = run(tile)
            print(f"{name}: first call {time.perf_counter() - start:.1f} s", file=sys.stderr)
        seconds: dict[str, list[float]] = {name: [] for name in runners}
        for round_ in range(args.rounds):
            for name, run in runners.items():
                start = time.perf_counter()
                run(tile)
                seconds[name].append(time.perf_counter() - start)
            print(f"round {round_ + 1}: " + ", ".join(
                f"{n} {s[-1]:.2f}" for n, s in seconds.items()), file=sys.stderr)
    base = statistics.median(seconds["torch eager fp32"])
    labels = reference.argmax(1)
    rows = []
    for name, times in seconds.items():
        median = statistics.median(times)
        rows.append({
            "runtime": name, "median_s": round(median, 3), "vs_eager": round(median / base, 3),
            "max_abs_logit_diff": float(np.abs(warm[name] - reference).max()),
            "labels_equal_pct": round(100 * float((warm[name].argmax(1) == labels).mean()), 4),
        })
    print(f"load average {os.getloadavg()}")
    print("| runtime | median s per tile | x eager | max abs score diff | labels equal |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['runtime']} | {r['median_s']} | {r['vs_eager']} | "
              f"{r['max_abs_logit_diff']:.2e} | {r['labels_equal_pct']} % |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "seconds": seconds}, indent=1))


if __name__ == "__main__":
    main()
