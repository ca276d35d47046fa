"""ICT's area: rollout waves, campaign reports and announcements, for the admin role only."""
