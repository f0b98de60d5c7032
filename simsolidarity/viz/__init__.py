"""The browser app: a Solara page with Mesa's model controller, for the solidarity model.

- :mod:`~simsolidarity.viz.app`: the page (``solara run simsolidarity/viz/app.py`` serves it);
- :mod:`~simsolidarity.viz.components`: its cards, matplotlib figures of the model's arrays;
- :mod:`~simsolidarity.viz.controls`: its settings, built from the parameter schema and a scenario;
- :mod:`~simsolidarity.viz.appmodel`: the model as the app builds it (grid fitted to the population,
  a seed always known, an end step);
- :mod:`~simsolidarity.viz.export`: what the page saves (time series, settings as a scenario);
- :mod:`~simsolidarity.viz.server`: serving the page from the command line;
- :mod:`~simsolidarity.viz.assets`: the offline asset cache;
- :mod:`~simsolidarity.viz.commands`: the ``viz`` and ``viz-assets`` subcommands.

Importing this package imports none of them, so the command line stays quick to start.
"""
