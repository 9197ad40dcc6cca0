"""Dataset types, registered by name in `registry`: each opens a source path and yields Records."""
from ingest.datasets.registry import list_datasets, open_dataset

__all__ = ["list_datasets", "open_dataset"]
