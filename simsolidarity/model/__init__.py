"""The model layer: parameters, people, recommenders, outcomes, the model and its reference.

The bottom layer: it imports nothing from the running and analysis layers above it. Its public
names are exported by the package itself (``simsolidarity.SolidarityModel``, ...); this package
imports none of its modules, so that reading the parameter schema does not import Mesa.
"""
