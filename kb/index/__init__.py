"""Ingest and repair: files in, passages and extractions stored, Chroma kept in step (doctor, reindex)."""
