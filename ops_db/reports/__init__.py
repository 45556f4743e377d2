"""HTML reports: the order review, the desk health dashboard and a symbol's market page."""
