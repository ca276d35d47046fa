"""The helpdesk in Teams: requests, the helpdesk channel's ticket cards and their relay."""
