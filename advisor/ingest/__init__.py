"""One ingestion layer: what every entry point (library, command line, service) reads through.

Modules, each with one job:

- ``missing``: the markers that mean "no value" (NaN, None, pandas NA, "", "NA", "null", ...);
- ``targets``: a target column or matrix to clean numbers or text labels, missing rows
  counted and excluded;
- ``labels``: ``ClassLabels``, text or numeric labels ↔ indices 0..C-1, one order everywhere;
- ``table``: any table (DataFrame, Arrow, dict of columns, structured array, matrix) as a
  DataFrame with named columns;
- ``features``: a table to the numeric matrix a model reads (one scikit-learn
  ``ColumnTransformer``: median imputation with indicators, one-hot categories, datetime
  parts), with a per-column report.

Importing this package imports nothing heavy; ``table`` and ``features`` need pandas and
scikit-learn, the others only numpy.
"""
