"""Programmes, courses, venues, dated sessions and weekly series."""
