"""Campaigns of proactive messages: the outbox, its dispatcher and the limits it keeps."""
