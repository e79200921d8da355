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
        emb().replace("service: openai", "service: open-ai"),
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


# --- every fully supported service: a missing required field, a wrong type, a literal secret
# (the services without a secret: a cross-field rule instead), and one rule of its own (63-)


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the first line of `text` that starts with `marker`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(marker))


def service_doc(service: str, task: str, settings: str, extra: str = "") -> str:
    return (
        f"inference_id: case\ntask_type: {task}\nservice: {service}\nservice_settings:\n"
        + settings
        + extra
    )


ES_SPARSE = "  model_id: .elser_model_2\n  num_threads: 1\n  num_allocations: 1\n"
ELSER = "  num_threads: 1\n  num_allocations: 1\n"
EIS = "  model_id: elser_model_2\n"
AZURE = (
    "  api_key: ${AZURE_OPENAI_API_KEY}\n  resource_name: res\n  deployment_id: dep\n"
    '  api_version: "2024-10-21"\n'
)
COHERE = "  api_key: ${COHERE_API_KEY}\n  model_id: rerank-v3.5\n"
BEDROCK = (
    "  access_key: ${AWS_ACCESS_KEY_ID}\n  secret_key: ${AWS_SECRET_ACCESS_KEY}\n"
    "  region: us-east-1\n  provider: amazontitan\n  model: amazon.titan-embed-text-v2:0\n"
)
VERTEX = (
    "  service_account_json: ${GOOGLE_SERVICE_ACCOUNT_JSON}\n  model_id: text-embedding-005\n"
    "  location: us-central1\n  project_id: proj\n"
)
SA_JSON = '{"type": "service_account", "private_key": "LITERALPRIVATEKEY0123456789"}'


def located(text: str, marker: str, path: str, fragment: str) -> tuple[str, int, str, str]:
    return (text, line_of(text, marker), path, fragment)


SERVICE_CASES: dict[str, tuple[str | bytes, int, str, str]] = {
    # elasticsearch (no secret)
    "63-elasticsearch-missing-num-threads": located(
        service_doc(
            "elasticsearch", "sparse_embedding", ES_SPARSE.replace("  num_threads: 1\n", "")
        ),
        "service_settings:",
        "$.service_settings",
        "`num_threads` is required",
    ),
    "64-elasticsearch-num-threads-wrong-type": located(
        service_doc("elasticsearch", "sparse_embedding", ES_SPARSE.replace("1\n", '"1"\n', 1)),
        "  num_threads:",
        "$.service_settings.num_threads",
        "got a string",
    ),
    "65-elasticsearch-allocations-and-adaptive": located(
        service_doc(
            "elasticsearch",
            "sparse_embedding",
            ES_SPARSE + "  adaptive_allocations:\n    enabled: true\n",
        ),
        "  adaptive_allocations:",
        "$.service_settings.adaptive_allocations",
        "not both",
    ),
    "66-elasticsearch-num-threads-not-a-power-of-two": located(
        service_doc(
            "elasticsearch", "rerank", ES_SPARSE.replace("num_threads: 1", "num_threads: 3")
        ),
        "  num_threads:",
        "$.service_settings.num_threads",
        "`32`",
    ),
    # elser (the deprecated alias)
    "67-elser-missing-num-threads": located(
        service_doc("elser", "sparse_embedding", ELSER.replace("  num_threads: 1\n", "")),
        "service_settings:",
        "$.service_settings",
        "`num_threads`",
    ),
    "68-elser-num-allocations-wrong-type": located(
        service_doc(
            "elser", "sparse_embedding", ELSER.replace("num_allocations: 1", "num_allocations: 1.5")
        ),
        "  num_allocations:",
        "$.service_settings.num_allocations",
        "integer",
    ),
    "69-elser-neither-allocation-setting": located(
        service_doc("elser", "sparse_embedding", "  num_threads: 1\n"),
        "service_settings:",
        "$.service_settings",
        "`num_allocations` or `adaptive_allocations`",
    ),
    # elastic (EIS; no secret)
    "70-elastic-missing-model-id": located(
        service_doc("elastic", "sparse_embedding", "  rate_limit:\n    requests_per_minute: 100\n"),
        "service_settings:",
        "$.service_settings",
        "`model_id`",
    ),
    "71-elastic-rate-limit-wrong-type": located(
        service_doc(
            "elastic", "chat_completion", EIS + "  rate_limit:\n    requests_per_minute: many\n"
        ),
        "    requests_per_minute:",
        "$.service_settings.rate_limit.requests_per_minute",
        "integer",
    ),
    "72-elastic-has-no-api-key": located(
        service_doc("elastic", "sparse_embedding", EIS + "  api_key: ${EIS_KEY}\n"),
        "  api_key:",
        "$.service_settings.api_key",
        "unknown key `api_key`",
    ),
    # azureopenai
    "73-azureopenai-missing-resource-name": located(
        service_doc("azureopenai", "text_embedding", AZURE.replace("  resource_name: res\n", "")),
        "service_settings:",
        "$.service_settings",
        "`resource_name`",
    ),
    "74-azureopenai-api-version-wrong-type": located(
        service_doc("azureopenai", "completion", AZURE.replace('"2024-10-21"', "2024")),
        "  api_version:",
        "$.service_settings.api_version",
        "expected a string",
    ),
    "75-azureopenai-literal-entra-id": located(
        service_doc(
            "azureopenai",
            "text_embedding",
            AZURE.replace(
                "  api_key: ${AZURE_OPENAI_API_KEY}\n", "  entra_id: LITERALENTRATOKEN0123456789\n"
            ),
        ),
        "  entra_id:",
        "$.service_settings.entra_id",
        "${VAR}",
    ),
    "76-azureopenai-api-key-and-entra-id": located(
        service_doc("azureopenai", "text_embedding", AZURE + "  entra_id: ${AZURE_ENTRA_ID}\n"),
        "  entra_id:",
        "$.service_settings.entra_id",
        "only one of",
    ),
    # cohere
    "77-cohere-missing-model-id": located(
        service_doc("cohere", "rerank", COHERE.replace("  model_id: rerank-v3.5\n", "")),
        "service_settings:",
        "$.service_settings",
        "`model_id`",
    ),
    "78-cohere-top-n-wrong-type": located(
        service_doc("cohere", "rerank", COHERE, "task_settings:\n  top_n: ten\n"),
        "  top_n:",
        "$.task_settings.top_n",
        "integer",
    ),
    "79-cohere-literal-api-key": located(
        service_doc(
            "cohere", "rerank", COHERE.replace("${COHERE_API_KEY}", "LITERALCOHEREKEY0123456789")
        ),
        "  api_key:",
        "$.service_settings.api_key",
        "${VAR}",
    ),
    "80-cohere-embedding-type-on-rerank": located(
        service_doc("cohere", "rerank", COHERE + "  embedding_type: byte\n"),
        "  embedding_type:",
        "$.service_settings.embedding_type",
        "text_embedding",
    ),
    # amazonbedrock
    "81-amazonbedrock-missing-provider": located(
        service_doc(
            "amazonbedrock", "text_embedding", BEDROCK.replace("  provider: amazontitan\n", "")
        ),
        "service_settings:",
        "$.service_settings",
        "`provider`",
    ),
    "82-amazonbedrock-region-wrong-type": located(
        service_doc(
            "amazonbedrock",
            "text_embedding",
            BEDROCK.replace("region: us-east-1", "region: [us-east-1]"),
        ),
        "  region:",
        "$.service_settings.region",
        "expected a string",
    ),
    "83-amazonbedrock-literal-secret-key": located(
        service_doc(
            "amazonbedrock",
            "text_embedding",
            BEDROCK.replace("${AWS_SECRET_ACCESS_KEY}", "LITERALAWSSECRET0123456789abcdef"),
        ),
        "  secret_key:",
        "$.service_settings.secret_key",
        "${VAR}",
    ),
    "84-amazonbedrock-provider-for-another-task": located(
        service_doc(
            "amazonbedrock",
            "text_embedding",
            BEDROCK.replace("provider: amazontitan", "provider: anthropic"),
        ),
        "  provider:",
        "$.service_settings.provider",
        "`amazontitan`",
    ),
    # googlevertexai
    "85-googlevertexai-missing-project-id": located(
        service_doc("googlevertexai", "text_embedding", VERTEX.replace("  project_id: proj\n", "")),
        "service_settings:",
        "$.service_settings",
        "`project_id`",
    ),
    "86-googlevertexai-dimensions-wrong-type": located(
        service_doc("googlevertexai", "text_embedding", VERTEX + '  dimensions: "256"\n'),
        "  dimensions:",
        "$.service_settings.dimensions",
        "integer",
    ),
    "87-googlevertexai-literal-service-account-json": located(
        service_doc(
            "googlevertexai",
            "text_embedding",
            VERTEX.replace("${GOOGLE_SERVICE_ACCOUNT_JSON}", "'" + SA_JSON + "'"),
        ),
        "  service_account_json:",
        "$.service_settings.service_account_json",
        "${VAR}",
    ),
    "88-googlevertexai-url-without-garden-provider": located(
        service_doc("googlevertexai", "completion", VERTEX + "  url: https://example.com/x\n"),
        "  url:",
        "$.service_settings.url",
        "remove it",
    ),
    # custom (generic tier): a map of secrets
    "89-custom-literal-secret-parameter": located(
        service_doc(
            "custom",
            "text_embedding",
            "  secret_parameters:\n    api_key: LITERALCUSTOMKEY0123456789\n"
            "  request: '{\"input\": ${input}}'\n"
            "  response:\n    json_parser:\n      text_embeddings: $.data[*].embedding[*]\n",
        ),
        "    api_key:",
        "$.service_settings.secret_parameters.api_key",
        "${VAR}",
    ),
}
CASES.update(SERVICE_CASES)

LITERAL_CASES = {
    "01-literal-api-key": "LITERALKEY",
    "75-azureopenai-literal-entra-id": "LITERALENTRATOKEN",
    "79-cohere-literal-api-key": "LITERALCOHEREKEY",
    "83-amazonbedrock-literal-secret-key": "LITERALAWSSECRET",
    "87-googlevertexai-literal-service-account-json": "LITERALPRIVATEKEY",
    "89-custom-literal-secret-parameter": "LITERALCUSTOMKEY",
}
"""The cases holding a literal secret, and a fragment of it that must never be printed
(tests/e2e/test_invalid_corpus.py checks both)."""


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
