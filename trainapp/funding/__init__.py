"""Grants, allocations, costs, non-attendance charges and spend against budget."""
