"""The history wing: a ScanResult kept (save), compared over time (progress), carried out as a file and
back in (export). docs/ARCHITECTURE.md has the table."""
