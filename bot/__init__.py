"""Puhelinbotti: the Teams bot of the City of Pori's work smartphone program."""
