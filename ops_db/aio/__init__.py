"""The async API: the same functions as the sync one, on psycopg.AsyncConnection. Written by hand;
the sync modules outside aio/ are generated from these (tools/async_to_sync.py)."""
