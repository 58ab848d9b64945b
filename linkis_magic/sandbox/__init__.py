"""The local Linkis-compatible sandbox gateway (run with `python -m linkis_magic.sandbox`)."""
