"""Registers on the day, learner records, evaluations and certificates."""
