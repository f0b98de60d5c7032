"""The running layer: scenario and experiment files, samplers, executors, runs, sweeps, results folders.

It builds on the model layer and imports nothing from the analysis layer or the interfaces above it.
"""
