from ops_db.cli import run

run()
