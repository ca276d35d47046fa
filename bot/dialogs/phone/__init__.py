"""Choosing a phone: the Free Choice or the Pori-phone, step by step, with its cards."""
