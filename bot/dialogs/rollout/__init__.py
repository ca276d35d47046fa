"""My unit's turn: the unit's choice window, and the cards that tell it opens or closes."""
