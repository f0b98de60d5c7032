"""The analysis layer: summaries, hypotheses, sensitivity, comparisons and plots of results.

It reads what the running layer writes and imports nothing from the interfaces above it.
"""
