-- The TimescaleDB extension. Needs a superuser, or a database where it already exists.
CREATE EXTENSION IF NOT EXISTS timescaledb;
