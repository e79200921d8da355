"""Benchmark: validate throughput on 20,000 documents of every fully supported service, beside
the same number of openai documents.

Prints figures; asserts only that every document is valid. Target: the mixed-service corpus
validates at least as fast as the openai-only one (a schema per service and task type, each
compiled once, must cost nothing per document).
Run: python bench/bench_validate_services.py
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from bench_validate import (  # run as `python bench/bench_validate_services.py`
    DOCUMENT,
    docs_per_second,
)

COUNT = 20_000
PER_FILE = 100

OPENAI = DOCUMENT  # the openai-only benchmark's document, so the two figures compare

MIXED = [
    OPENAI,
    """\
inference_id: bench-{i}
task_type: sparse_embedding
service: elasticsearch
service_settings:
  model_id: .elser_model_2_linux-x86_64
  num_threads: 1
  adaptive_allocations:
    enabled: true
    min_number_of_allocations: 0
    max_number_of_allocations: {dims}
chunking_settings:
  strategy: sentence
  max_chunk_size: 250
  sentence_overlap: 1
""",
    """\
inference_id: bench-{i}
task_type: rerank
service: elasticsearch
service_settings:
  model_id: .rerank-v1
  num_threads: 1
  num_allocations: 1
task_settings:
  return_documents: true
""",
    """\
inference_id: bench-{i}
task_type: sparse_embedding
service: elastic
service_settings:
  model_id: elser_model_2
""",
    """\
inference_id: bench-{i}
task_type: text_embedding
service: azureopenai
service_settings:
  api_key: ${{AZURE_OPENAI_API_KEY}}
  resource_name: res
  deployment_id: dep
  api_version: "2024-10-21"
  rate_limit:
    requests_per_minute: {dims}
""",
    """\
inference_id: bench-{i}
task_type: rerank
service: cohere
service_settings:
  api_key: ${{COHERE_API_KEY}}
  model_id: rerank-v3.5
task_settings:
  top_n: {dims}
  return_documents: true
""",
    """\
inference_id: bench-{i}
task_type: text_embedding
service: amazonbedrock
service_settings:
  access_key: ${{AWS_ACCESS_KEY_ID}}
  secret_key: ${{AWS_SECRET_ACCESS_KEY}}
  region: us-east-1
  provider: amazontitan
  model: amazon.titan-embed-text-v2:0
chunking_settings:
  strategy: word
  max_chunk_size: 200
  overlap: 50
""",
    """\
inference_id: bench-{i}
task_type: text_embedding
service: googlevertexai
service_settings:
  service_account_json: ${{GOOGLE_SERVICE_ACCOUNT_JSON}}
  model_id: text-embedding-005
  location: us-central1
  project_id: my-project
  dimensions: {dims}
""",
    """\
inference_id: bench-{i}
task_type: text_embedding
service: custom
service_settings:
  secret_parameters:
    api_key: ${{CUSTOM_API_KEY}}
  url: https://example.com/v1/embeddings
  headers:
    Authorization: Bearer ${{api_key}}
  request: '{{"input": ${{input}}}}'
  response:
    json_parser:
      text_embeddings: $.data[*].embedding[*]
""",
]


def write_corpus(root: Path, templates: list[str], count: int = COUNT) -> None:
    cycle = itertools.cycle(templates)
    for start in range(0, count, PER_FILE):
        docs = [next(cycle).format(i=i, dims=1 + i % 64) for i in range(start, start + PER_FILE)]
        (root / f"m{start:05d}.yaml").write_text("---\n".join(docs))


def throughput(templates: list[str], rounds: int = 3) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(Path(tmp), templates)
        return docs_per_second(tmp, COUNT, rounds)


def main() -> None:
    openai = throughput([OPENAI])
    mixed = throughput(MIXED)
    services = len({t.split("service: ")[1].split("\n")[0] for t in MIXED})
    print(f"validate, {COUNT:,} openai documents ({PER_FILE} per file):      {openai:8.0f} docs/s")
    print(
        f"validate, {COUNT:,} documents of {services} services ({PER_FILE} per file): "
        f"{mixed:8.0f} docs/s ({mixed / openai:.2f}× openai-only; target >= 1)"
    )


if __name__ == "__main__":
    main()
