"""Storage: SQLite in WAL mode holding documents, the query index and the boards of a home."""
