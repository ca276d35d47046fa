"""The local demo: fictional Pori employees, a sample catalog, the bot and the Agents Playground."""
