"""One-off generator of the invalid-manifest corpus (kept for reproducibility).

Each case is a folder `invalid/NN-rule/` with the input file(s) and `expected.yaml`:
the line, JSON path and a message fragment the error must show.
"""

import json
from pathlib import Path

BASE = """\
inference_id: {id}
task_type: {task}
service: openai
service_settings:
  api_key: ${{OPENAI_API_KEY}}
  model_id: {model}
"""


def emb(
    extra: str = "",
    id: str = "case",
    task: str = "text_embedding",
    model: str = "text-embedding-3-small",
) -> str:
    return BASE.format(id=id, task=task, model=model) + extra


def comp(extra: str = "") -> str:
    return BASE.format(id="case", task="completion", model="gpt-4o-mini") + extra


CASES: dict[str, tuple[str | bytes, int, str, str]] = {
    # name: (manifest, line, path, message fragment)
    "01-literal-api-key": (
        emb().replace("${OPENAI_API_KEY}", "sk-proj-LITERALKEY0123456789"),
        5,
        "$.service_settings.api_key",
        "${VAR}",
    ),
    "02-missing-api-key": (
        emb().replace("  api_key: ${OPENAI_API_KEY}\n", ""),
        4,
        "$.service_settings",
        "api_key",
    ),
    "03-missing-model-id": (
        emb().replace("  model_id: text-embedding-3-small\n", "  dimensions: 8\n"),
        4,
        "$.service_settings",
        "model_id",
    ),
    "04-dimensions-zero": (emb("  dimensions: 0\n"), 7, "$.service_settings.dimensions", "1"),
    "05-dimensions-not-integer": (
        emb('  dimensions: "128"\n'),
        7,
        "$.service_settings.dimensions",
        "integer",
    ),
    "06-dimensions-on-completion": (
        comp("  dimensions: 64\n"),
        7,
        "$.service_settings.dimensions",
        "text_embedding",
    ),
    "07-similarity-unknown": (
        emb("  similarity: euclid\n"),
        7,
        "$.service_settings.similarity",
        "cosine",
    ),
    "08-similarity-on-completion": (
        comp("  similarity: cosine\n"),
        7,
        "$.service_settings.similarity",
        "text_embedding",
    ),
    "09-rate-limit-zero": (
        emb("  rate_limit:\n    requests_per_minute: 0\n"),
        8,
        "$.service_settings.rate_limit.requests_per_minute",
        "1",
    ),
    "10-rate-limit-unknown-key": (
        emb("  rate_limit:\n    per_minute: 10\n"),
        8,
        "$.service_settings.rate_limit.per_minute",
        "per_minute",
    ),
    "11-task-settings-user-empty": (
        emb('task_settings:\n  user: ""\n'),
        8,
        "$.task_settings.user",
        "empty",
    ),
    "12-task-settings-unknown-key": (
        emb("task_settings:\n  temperature: 0.2\n"),
        8,
        "$.task_settings.temperature",
        "temperature",
    ),
    "13-chunking-on-completion": (
        comp("chunking_settings:\n  strategy: word\n  max_chunk_size: 100\n  overlap: 10\n"),
        7,
        "$.chunking_settings",
        "text_embedding",
    ),
    "14-sentence-chunk-too-small": (
        emb("chunking_settings:\n  strategy: sentence\n  max_chunk_size: 19\n"),
        9,
        "$.chunking_settings.max_chunk_size",
        "20",
    ),
    "15-sentence-chunk-too-large": (
        emb("chunking_settings:\n  strategy: sentence\n  max_chunk_size: 301\n"),
        9,
        "$.chunking_settings.max_chunk_size",
        "300",
    ),
    "16-word-chunk-too-small": (
        emb("chunking_settings:\n  strategy: word\n  max_chunk_size: 9\n  overlap: 2\n"),
        9,
        "$.chunking_settings.max_chunk_size",
        "10",
    ),
    "17-word-overlap-over-half": (
        emb("chunking_settings:\n  strategy: word\n  max_chunk_size: 100\n  overlap: 51\n"),
        10,
        "$.chunking_settings.overlap",
        "50",
    ),
    "18-overlap-on-sentence": (
        emb("chunking_settings:\n  strategy: sentence\n  max_chunk_size: 100\n  overlap: 10\n"),
        10,
        "$.chunking_settings.overlap",
        "word",
    ),
    "19-sentence-overlap-two": (
        emb(
            "chunking_settings:\n  strategy: sentence\n  max_chunk_size: 100\n  sentence_overlap: 2\n"
        ),
        10,
        "$.chunking_settings.sentence_overlap",
        "0",
    ),
    "20-sentence-overlap-on-word": (
        emb(
            "chunking_settings:\n  strategy: word\n  max_chunk_size: 100\n  overlap: 10\n  sentence_overlap: 1\n"
        ),
        11,
        "$.chunking_settings.sentence_overlap",
        "sentence",
    ),
    "21-chunking-unknown-strategy": (
        emb("chunking_settings:\n  strategy: paragraph\n  max_chunk_size: 100\n"),
        8,
        "$.chunking_settings.strategy",
        "sentence",
    ),
    "22-chunking-missing-strategy": (
        emb("chunking_settings:\n  max_chunk_size: 100\n"),
        7,
        "$.chunking_settings",
        "strategy",
    ),
    "23-recursive-separators-and-group": (
        emb(
            'chunking_settings:\n  strategy: recursive\n  max_chunk_size: 100\n  separators: ["\\n"]\n  separator_group: markdown\n'
        ),
        7,
        "$.chunking_settings",
        "separator",
    ),
    "24-recursive-empty-separators": (
        emb("chunking_settings:\n  strategy: recursive\n  max_chunk_size: 100\n  separators: []\n"),
        10,
        "$.chunking_settings.separators",
        "empty",
    ),
    "25-none-with-extra-keys": (
        emb("chunking_settings:\n  strategy: none\n  max_chunk_size: 100\n"),
        9,
        "$.chunking_settings.max_chunk_size",
        "max_chunk_size",
    ),
    "26-inference-id-upper-case": (emb(id="My-Endpoint"), 1, "$.inference_id", "lower"),
    "27-inference-id-reserved-all": (emb(id="_all"), 1, "$.inference_id", "_all"),
    "28-unsupported-task-type": (emb(task="rerank"), 2, "$.task_type", "text_embedding"),
    "29-unsupported-service": (
        emb().replace("service: openai", "service: cohere"),
        3,
        "$.service",
        "openai",
    ),
    "30-unknown-top-level-key": (emb("metadata:\n  team: search\n"), 7, "$.metadata", "metadata"),
    "31-missing-service-settings": (
        "inference_id: case\ntask_type: completion\nservice: openai\n",
        1,
        "$",
        "service_settings",
    ),
    "32-duplicate-yaml-key": (
        emb("  model_id: text-embedding-3-large\n"),
        7,
        "$.service_settings.model_id",
        "duplicate",
    ),
    "33-yaml-syntax-error": (emb("  dimensions: [1, 2\n"), 8, "$", "YAML"),
    "34-empty-document": (emb("---\n"), 8, "$", "empty"),
    "35-not-a-mapping": ("- inference_id: case\n- task_type: completion\n", 1, "$", "mapping"),
    "36-invalid-utf8": (emb().encode() + b"task_settings:\n  user: caf\xe9\n", 8, "$", "UTF-8"),
    "37-binary-file": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "$", "binary"),
    "38-alias-bomb": (
        'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 10)),
        1,
        "$",
        "alias",
    ),
    "39-empty-file": ("# nothing but a comment\n", 1, "$", "empty"),
    "40-bad-key-rotation": (
        emb("reconcile:\n  key_rotation: sometimes\n"),
        8,
        "$.reconcile.key_rotation",
        "recreate",
    ),
    "41-max-input-tokens-zero": (
        emb("  max_input_tokens: 0\n"),
        7,
        "$.service_settings.max_input_tokens",
        "1",
    ),
    "42-api-key-bad-variable-name": (
        emb().replace("${OPENAI_API_KEY}", "${1KEY}"),
        5,
        "$.service_settings.api_key",
        "${VAR}",
    ),
    "43-url-not-a-string": (emb("  url: 8080\n"), 7, "$.service_settings.url", "string"),
    "44-header-value-not-string": (
        comp("task_settings:\n  headers:\n    X-Team: 7\n"),
        9,
        "$.task_settings.headers.X-Team",
        "string",
    ),
    "45-deep-nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", 1, "$", "nesting"),
    # bounds: every integer to its Java type, every string to a length (47-62)
    "47-dimensions-beyond-64-bit": (
        emb("  dimensions: 99999999999999999999999999999999\n"),
        7,
        "$.service_settings.dimensions",
        "from 1 to 2147483647",
    ),
    "48-dimensions-int-max-plus-one": (
        emb("  dimensions: 2147483648\n"),
        7,
        "$.service_settings.dimensions",
        "Java int",
    ),
    "49-max-input-tokens-int-max-plus-one": (
        comp("  max_input_tokens: 2147483648\n"),
        7,
        "$.service_settings.max_input_tokens",
        "2147483647",
    ),
    "50-requests-per-minute-long-max-plus-one": (
        emb("  rate_limit:\n    requests_per_minute: 9223372036854775808\n"),
        8,
        "$.service_settings.rate_limit.requests_per_minute",
        "9223372036854775807",
    ),
    "51-max-chunk-size-int-max-plus-one": (
        emb("chunking_settings:\n  max_chunk_size: 2147483648\n"),
        8,
        "$.chunking_settings.max_chunk_size",
        "2147483647",
    ),
    "52-overlap-int-max-plus-one": (
        emb("chunking_settings:\n  strategy: word\n  max_chunk_size: 100\n  overlap: 2147483648\n"),
        10,
        "$.chunking_settings.overlap",
        "2147483647",
    ),
    "53-sentence-overlap-int-max-plus-one": (
        emb(
            "chunking_settings:\n  strategy: sentence\n  max_chunk_size: 100\n"
            "  sentence_overlap: 2147483648\n"
        ),
        10,
        "$.chunking_settings.sentence_overlap",
        "`0` or `1`",
    ),
    "54-integer-too-long-to-read": (
        emb("  dimensions: " + "9" * 5000 + "\n"),
        7,
        "$.service_settings.dimensions",
        "(5000 characters)",
    ),
    "55-inference-id-one-past-limit": (emb(id="a" * 507), 1, "$.inference_id", "at most 506"),
    "56-inference-id-1mib": (emb(id="a" * 2**20), 1, "$.inference_id", "512 bytes"),
    "57-model-id-too-long": (
        emb(model="m" * 1025),
        6,
        "$.service_settings.model_id",
        "at most 1024 characters, got 1025",
    ),
    "58-url-too-long": (
        emb("  url: https://example.com/" + "u" * 8173 + "\n"),
        7,
        "$.service_settings.url",
        "at most 8192 characters, got 8193",
    ),
    "59-user-1mib": (
        emb("task_settings:\n  user: " + "u" * 2**20 + "\n"),
        8,
        "$.task_settings.user",
        "at most 1024 characters",
    ),
    "60-header-value-too-long": (
        comp("task_settings:\n  headers:\n    X-Team: " + "v" * 8193 + "\n"),
        9,
        "$.task_settings.headers.X-Team",
        "at most 8192 characters",
    ),
    "61-smoke-input-too-long": (
        emb("reconcile:\n  smoke:\n    input: " + "i" * 4097 + "\n"),
        9,
        "$.reconcile.smoke.input",
        "at most 4096 characters",
    ),
    "62-hex-integer-beyond-64-bit": (
        emb("  max_input_tokens: 0x" + "f" * 17 + "\n"),
        7,
        "$.service_settings.max_input_tokens",
        "0xfffffffffffffffff",
    ),
}


def main() -> None:
    root = Path(__file__).parent / "invalid"
    for name, (manifest, line, path, fragment) in CASES.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "manifest.yaml"
        if isinstance(manifest, bytes):
            target.write_bytes(manifest)
        else:
            target.write_text(manifest)
        expected = {"line": line, "path": path, "contains": fragment}
        (folder / "expected.json").write_text(json.dumps(expected) + "\n")
    dup = root / "46-duplicate-inference-id"
    dup.mkdir(parents=True, exist_ok=True)
    (dup / "a.yaml").write_text(emb(id="shared"))
    (dup / "b.yaml").write_text(comp().replace("inference_id: case", "inference_id: shared"))
    expected = {"file": "b.yaml", "line": 1, "path": "$.inference_id", "contains": "a.yaml:1"}
    (dup / "expected.json").write_text(json.dumps(expected) + "\n")


if __name__ == "__main__":
    main()
