"""The analyses of the brief: pure functions from query results to frozen dataclasses.

One module per analysis; none does I/O or plotting. `lgs_reports.analysis`
runs them all for a `Dataset` and `lgs_reports.figures` turns the results
into the ``figures.json`` document.
"""
