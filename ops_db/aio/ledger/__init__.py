"""The trading ledger, async: orders and fills, positions and P&L, strategies, the kill switch, alerts."""
