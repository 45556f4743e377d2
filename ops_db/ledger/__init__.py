"""The trading ledger: orders and fills, positions and P&L, strategies, the kill switch, alerts
(generated from ``ops_db.aio.ledger``; the row types are in ``ops_db.model.ledger``)."""
