"""Employees and units: who works where, and which language they use with the bot."""
