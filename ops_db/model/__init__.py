"""Row types and typed vocabularies of the application API, shared by the sync and async modules."""
