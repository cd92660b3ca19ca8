"""The scan wing: photo bytes -> ScanResult, one way (decode, face, gate, model, measure, calibrate).
It imports nothing from the other wings; docs/ARCHITECTURE.md has the table."""
