"""Rollout waves: which units may choose their phones, and when."""
