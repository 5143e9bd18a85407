"""Storage: SQLite (the record), Chroma (a projection of it), the knowledge-base handle, backup."""
