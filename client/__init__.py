"""The light client side: the command line now, the gRPC client with the service.

Nothing here imports torch or scikit-learn at import time; in-process commands import
the compute stack only when they run.
"""
