"""Adaptive Cards (schema 1.5, what Teams renders), built by functions from data."""
