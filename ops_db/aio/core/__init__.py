"""The async twin of ops_db.core: connections, pools, atomic() and the fetch helpers."""
