"""Everything that talks to another system, each behind a small interface with a fake."""
