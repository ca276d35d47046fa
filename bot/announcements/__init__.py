"""ICT's announcements: one message to units, a wave, everyone or a list of people."""
