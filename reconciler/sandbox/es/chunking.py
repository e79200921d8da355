"""`chunking_settings` of text_embedding endpoints: parse, validate, default and echo
(elastic/elasticsearch `x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/
chunking/`: `ChunkingSettingsBuilder`, `*ChunkingSettings.java`, `SeparatorGroup.java`)."""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .extract import Errors, extract_enum, extract_positive_int, remove_as_type
from .versions import Capabilities

SCOPE = "[chunking_settings]"
DEFAULT_SETTINGS: dict[str, Any] = {
    "strategy": "sentence",
    "max_chunk_size": 250,
    "sentence_overlap": 1,
}
OLD_DEFAULT_SETTINGS: dict[str, Any] = {"strategy": "word", "max_chunk_size": 250, "overlap": 100}

# Source: x-pack/plugin/inference/…/inference/chunking/SeparatorGroup.java
SEPARATOR_GROUPS: dict[str, list[str]] = {
    "plaintext": [r"(?<!\n)\n\n(?!\n)", r"(?<!\n)\n(?!\n)"],
    "markdown": [
        "\n# ",
        "\n## ",
        "\n### ",
        "\n#### ",
        "\n##### ",
        "\n###### ",
        "\n^(?!\\s*$).*\\n-{1,}\\n",
        "\n^(?!\\s*$).*\\n={1,}\\n",
    ],
}


def parse_chunking(settings: dict[str, Any] | None, caps: Capabilities) -> dict[str, Any]:
    """`ChunkingSettingsBuilder.fromMap` for a PUT request (absent or `{}`: the default)."""
    if not settings:
        return dict(DEFAULT_SETTINGS)
    if "strategy" not in settings:
        raise bad_request("Can't generate Chunker without ChunkingStrategy provided")
    strategy = _strategy(settings["strategy"], caps)
    if strategy == "none":
        return {"strategy": "none"}
    parser = {"word": _word, "sentence": _sentence, "recursive": _recursive}[strategy]
    return parser(dict(settings), caps)


def _strategy(value: Any, caps: Capabilities) -> str:
    known = ["word", "sentence"] + (["none", "recursive"] if caps.extra_chunking_strategies else [])
    text = "null" if value is None else str(value)
    if text not in known:
        raise bad_request(f"Invalid chunkingStrategy {text}")
    return text


def _invalid_keys(m: dict[str, Any], valid: set[str], label: str, errors: Errors) -> None:
    bad = [k for k in m if k not in valid]
    if bad:
        errors.add(
            f"{label} chunking settings can not have the following settings: [{', '.join(bad)}]"
        )


def _between(m: dict[str, Any], key: str, low: int, high: int | None, errors: Errors) -> int | None:
    """`ServiceUtils.extractRequiredPositiveIntegerBetween` (bounds printed as doubles)."""
    value = extract_positive_int(m, key, SCOPE, errors, required=True)
    if value is not None and value < low:
        errors.add(
            f"{SCOPE} Invalid value [{float(value)}]. [{key}] must be a greater than or equal "
            f"to [{float(low)}]"
        )
        return None
    if value is not None and high is not None and value > high:
        errors.add(
            f"{SCOPE} Invalid value [{float(value)}]. [{key}] must be a less than or equal "
            f"to [{float(high)}]"
        )
        return None
    return value


def _upper(caps: Capabilities) -> int | None:
    """`MAX_CHUNK_SIZE_UPPER_LIMIT = 300` of the word, sentence and recursive settings, all three
    removed by elastic/elasticsearch#133718 (9.2), which keeps only the lower bounds."""
    return 300 if caps.chunk_size_upper_bound else None


def _word(m: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    errors = Errors()
    _invalid_keys(m, {"strategy", "max_chunk_size", "overlap"}, "Word based", errors)
    size = _between(m, "max_chunk_size", 10, _upper(caps), errors)
    overlap = None
    if size is not None:
        overlap = _between(m, "overlap", 1, size // 2, errors)
    errors.raise_if_any()
    return {"strategy": "word", "max_chunk_size": size, "overlap": overlap}


def _sentence(m: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    errors = Errors()
    _invalid_keys(m, {"strategy", "max_chunk_size", "sentence_overlap"}, "Sentence based", errors)
    size = _between(m, "max_chunk_size", 20, _upper(caps), errors)
    overlap = remove_as_type(m, "sentence_overlap", "Integer", errors)
    if overlap is None:
        overlap = 1
    elif overlap not in (0, 1):
        errors.add(f"sentence_overlap[{overlap}] must be either 0 or 1")
    errors.raise_if_any()
    return {"strategy": "sentence", "max_chunk_size": size, "sentence_overlap": overlap}


def _recursive(m: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    errors = Errors()
    valid = {"strategy", "max_chunk_size", "separators", "separator_group"}
    _invalid_keys(m, valid, "Recursive", errors)
    size = _between(m, "max_chunk_size", 10, _upper(caps), errors)
    group = extract_enum(m, "separator_group", SCOPE, list(SEPARATOR_GROUPS), errors)
    separators = _separators(m, errors)
    if separators is not None and group is not None:
        errors.add("Recursive chunking settings can not have both separators and separator_set")
    if group is not None:
        separators = list(SEPARATOR_GROUPS[group])
    elif separators is not None and not separators:
        errors.add("Recursive chunking settings can not have an empty list of separators")
    errors.raise_if_any()
    if separators is None:
        separators = list(SEPARATOR_GROUPS["plaintext"])
    return {"strategy": "recursive", "max_chunk_size": size, "separators": separators}


def _separators(m: dict[str, Any], errors: Errors) -> list[str] | None:
    value = remove_as_type(m, "separators", "List", errors)
    if value is None:
        return None
    for item in value:
        if not isinstance(item, str):
            errors.add(
                f"field [separators] is not of the expected type. The value [{item}] cannot be "
                "converted to a [String]"
            )
            return None
    return list(value)
