"""Questions and answers: a typed question matched to a topic, and the answer cards."""
