"""gRPC stubs generated from the contract in proto/ (see generate.py), and nothing else."""
