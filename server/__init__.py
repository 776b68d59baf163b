"""The gRPC transport over ``advisor``: maps the wire contract to the domain and back."""
