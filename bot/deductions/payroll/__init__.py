"""Payroll's monthly file: read (parse), posted to the ledger (post), reported to ICT (report)."""
