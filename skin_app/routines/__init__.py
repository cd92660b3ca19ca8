"""The routines wing: routine values, their schedule, marks and calendar file (schedule).
docs/ARCHITECTURE.md has the table."""
