"""Pydantic models of every result: the one vocabulary shared by library, service and client."""
