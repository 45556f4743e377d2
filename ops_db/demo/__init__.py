"""Synthetic, deterministic demo data (``ops-db demo``)."""
