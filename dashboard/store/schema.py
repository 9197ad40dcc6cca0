"""The metadata schema of a store (DuckDB) and its version, checked whenever a store is opened."""

SCHEMA_VERSION = 1
META_FILE = "meta.duckdb"
VECTOR_DIR = "vectors"

DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS datasets (
        name VARCHAR PRIMARY KEY, modalities VARCHAR[], kind VARCHAR, source VARCHAR,
        description VARCHAR, created TIMESTAMP DEFAULT current_timestamp)""",
    """CREATE TABLE IF NOT EXISTS items (
        dataset VARCHAR, item_id VARCHAR, ordinal BIGINT, text VARCHAR, image_ref VARCHAR,
        audio_ref VARCHAR, molecule VARCHAR, thumbnail BLOB, extra VARCHAR,
        PRIMARY KEY (dataset, item_id))""",
    """CREATE TABLE IF NOT EXISTS models (
        name VARCHAR PRIMARY KEY, family VARCHAR, modalities VARCHAR[], dim INTEGER,
        logit_scale DOUBLE, source VARCHAR, config VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS vector_tables (
        dataset VARCHAR, model VARCHAR, table_name VARCHAR, dim INTEGER,
        PRIMARY KEY (dataset, model))""",
    """CREATE TABLE IF NOT EXISTS artifacts (
        dataset VARCHAR, model VARCHAR, kind VARCHAR, key VARCHAR, format VARCHAR, payload BLOB,
        created TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (dataset, model, kind, key))""",
]

ITEM_COLUMNS = ["item_id", "ordinal", "text", "image_ref", "audio_ref", "molecule", "thumbnail", "extra"]
