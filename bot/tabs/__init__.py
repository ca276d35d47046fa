"""Web pages inside Teams (tabs) served by the bot's own app: ICT's view of the program."""
