"""Data protection: what the bot keeps about people and why, each person's copy, retention that
deletes, and the log of who used personal data (GDPR Art. 5(1)(e), 15, 30; Act 906/2019 §17)."""
