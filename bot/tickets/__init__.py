"""Helpdesk tickets: questions the bot could not answer, handled by people in a Teams channel."""
