"""What an operator sees of a running bot: logs with correlation ids, metrics and traces."""
