"""Bringing records in: reading files, mapping fields and values, validation and upsert."""
