"""Salary deductions of Free Choice phones: the plan, what payroll posted, and what is left."""
