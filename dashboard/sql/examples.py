"""Example queries shown on the SQL page (each returns an item_id column, so it can become the subset)."""
from __future__ import annotations


def example_queries() -> dict[str, str]:
    """Captions and queries, in the order the SQL page lists them."""
    return {
        'Captions with "dog" but not "hot dog"': (
            "SELECT item_id, text FROM items\n"
            "WHERE regexp_matches(text, '\\bdog\\b', 'i')\n"
            "  AND NOT regexp_matches(text, '\\bhot dog\\b', 'i')\n"
            "ORDER BY ordinal"),
        "First 500 items": "SELECT item_id, text FROM items ORDER BY ordinal LIMIT 500",
        "Pairs a model separates (lowest similarity)": (
            "SELECT item_id, model, similarity FROM pairs\n"
            "WHERE model = (SELECT min(model) FROM pairs)\n"
            "ORDER BY similarity ASC LIMIT 200"),
        "Pairs not retrieved in the top 5 (either direction)": (
            "SELECT p.item_id, i.text, p.model, p.similarity FROM pairs p JOIN items i USING (item_id)\n"
            "WHERE p.model = (SELECT min(model) FROM pairs)\n"
            "  AND greatest(*COLUMNS('rank_.*')) > 5\n"
            "ORDER BY p.similarity"),
        "Where two models disagree most": (
            "SELECT a.item_id, a.similarity - b.similarity AS difference FROM pairs a JOIN pairs b USING (item_id)\n"
            "WHERE a.model = (SELECT min(model) FROM pairs) AND b.model = (SELECT max(model) FROM pairs)\n"
            "ORDER BY abs(difference) DESC LIMIT 200"),
        "Recall@1 per model (share of pairs ranked first, each direction)": (
            "SELECT model, count(*) AS items, avg((COLUMNS('rank_.*') = 1)::INT) FROM pairs GROUP BY model ORDER BY model"),
    }
