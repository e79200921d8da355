"""reconciler: keep Elasticsearch inference endpoints as a Git repository of YAML manifests says.

Only the version lives here, so that `reconcile --help` imports nothing heavy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
