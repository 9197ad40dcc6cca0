"""gapscope ingest: embeds paired datasets with real models into a store (needs the `ingest` extra)."""
