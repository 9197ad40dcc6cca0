"""Model families of ingest, registered by name: `load_model("FAMILY:NAME", pretrained, device, precision)`."""
from ingest.models.registry import list_models, load_model

__all__ = ["list_models", "load_model"]
