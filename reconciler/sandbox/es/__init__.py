"""The Elasticsearch side of the sandbox: the inference API, indices, mappings, search,
authentication and the per-release capability table."""
