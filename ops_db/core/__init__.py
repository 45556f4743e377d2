"""The core every domain function goes through: settings, connections and pools, atomic(), the
fetch helpers, the named queries, the row factories, the argument contract and the errors."""
