"""Generated from proto/ by client/rpc/generate.py; do not edit."""
