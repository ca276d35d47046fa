"""ICT's console: what its commands read and change, apart from the Teams side."""
