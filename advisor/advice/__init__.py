"""The advice benchmark: the recommendation on real published data sets, against the loss
their literature uses, and against the task's default loss on held-out rows.

Modules: ``datasets`` (the cases: where each set ships, its target, the task and loss family
its literature uses, the citation) and ``run`` (profile, recommend and validate each, and the
table ``loss-advisor bench --advice`` prints). Every set ships inside scikit-learn or
statsmodels; nothing is downloaded.
"""
