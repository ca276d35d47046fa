"""Bot Framework: inbound authentication, the outbound Bot Connector client and our adapter."""
