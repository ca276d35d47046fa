"""The helpdesk in Teams: requests from the 1:1 chat, ticket cards in the helpdesk channel."""
