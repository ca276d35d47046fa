"""The recipients' side of ICT's announcements: the card they get, and its "acknowledge" press."""
