"""The ingredients wing: label text -> products and tokens (parse) -> entries (kb, with eu, botanical,
spelling, entry) -> the report (report). docs/ARCHITECTURE.md has the table."""
