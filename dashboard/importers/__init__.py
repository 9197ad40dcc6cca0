"""Importers that bring existing work into a store: Amumo exports and precomputed embeddings."""
