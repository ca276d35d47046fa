"""Microsoft Entra ID: the sign-in tokens Teams gives the bot's tabs."""
