"""Benchmark: validate throughput on 1,000 documents and `reconcile --help` start-up time.

Prints figures; asserts nothing. Targets (issue #2): ≥ 5,000 documents/s, start-up ≤ 0.3 s.
Run: python bench/bench_validate.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconciler.pipeline import load_manifests

DOCUMENT = """\
inference_id: bench-{i}
task_type: text_embedding
service: openai
service_settings:
  api_key: ${{OPENAI_API_KEY}}
  model_id: text-embedding-3-small
  dimensions: {dims}
  rate_limit:
    requests_per_minute: 1000
task_settings:
  user: bench
chunking_settings:
  strategy: word
  max_chunk_size: 120
  overlap: 40
"""


def write_corpus(root: Path, count: int, per_file: int) -> None:
    for start in range(0, count, per_file):
        docs = [DOCUMENT.format(i=i, dims=64 + i % 64) for i in range(start, start + per_file)]
        (root / f"m{start:05d}.yaml").write_text("---\n".join(docs))


def docs_per_second(folder: str, count: int, rounds: int) -> float:
    """Documents `load_manifests` validates per second in `folder` (of `count`): the median of
    `rounds`, after one load that warms the schema caches, as a long-lived process would be."""
    load_manifests([folder])
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = load_manifests([folder])
        timings.append(time.perf_counter() - started)
        assert result.valid and len(result.documents) == count, result.diagnostics[:3]
    return count / statistics.median(timings)


def throughput(count: int, per_file: int, rounds: int = 5) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(Path(tmp), count, per_file)
        return docs_per_second(tmp, count, rounds)


def cold_validate(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(Path(tmp), count, 10)
        started = time.perf_counter()
        subprocess.run(["reconcile", "validate", tmp], check=True, capture_output=True)
        return time.perf_counter() - started


def startup(rounds: int = 7) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "reconciler", "--help"], check=True, capture_output=True
        )
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    one_file = throughput(1000, 1000)
    ten_per_file = throughput(1000, 10)
    one_per_file = throughput(1000, 1)
    print(
        f"validate, 1,000 documents in 1 file:      {one_file:8.0f} documents/s (target >= 5,000)"
    )
    print(f"validate, 1,000 documents, 10 per file:   {ten_per_file:8.0f} documents/s")
    print(f"validate, 1,000 documents, 1 per file:    {one_per_file:8.0f} documents/s")
    print(f"reconcile validate (new process, 1,000):  {cold_validate(1000):8.3f} s")
    print(f"reconcile --help start-up (median of 7):  {startup():8.3f} s (target <= 0.3 s)")


if __name__ == "__main__":
    main()
