"""The main menu: the areas to choose from, the welcome and the language cards."""
