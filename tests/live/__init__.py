"""The contract suite: what the reconciler relies on from the Elasticsearch inference API, run
against any target (`--es-url`) or, by default, a sandbox process it starts itself; every
exchange can be recorded (`--record FILE`) and replayed against another target
(`python -m tests.live.replay`). See `tests/live/README.md`."""
