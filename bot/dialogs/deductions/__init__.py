"""My deductions: the employee's own status card and the life-event notices."""
