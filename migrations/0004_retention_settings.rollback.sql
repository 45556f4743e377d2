DROP TABLE ops_internal.retention;
