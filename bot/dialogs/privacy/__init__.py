"""My data: what the bot keeps about the asker, why and how long, and their own copy."""
