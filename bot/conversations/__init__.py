"""Where the bot can reach each person or channel again: stored conversation references."""
