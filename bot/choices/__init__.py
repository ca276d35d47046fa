"""An employee's phone choice: Free Choice or Pori-phone, its cost, consent and status."""
