"""The demo city: a deterministic generator and its place names."""
