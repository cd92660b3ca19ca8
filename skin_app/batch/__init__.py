"""The batch wing: many photo files -> one resumable Parquet table and its report (run), on Ray Data
or in one process (on_ray). docs/ARCHITECTURE.md has the table."""
