"""Search: query parsing, hybrid ranking, the in-memory snapshot, facets and search evaluation."""
