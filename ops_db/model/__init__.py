"""Row types and vocabularies shared by the sync and async APIs (hand-written, never generated)."""
