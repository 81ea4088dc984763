"""Evaluation: datasets, metric maths (pure functions), systems compared, reports."""
