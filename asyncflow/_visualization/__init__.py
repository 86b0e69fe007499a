"""Drawing flows: see :mod:`asyncflow.visualization` for the public entry point."""
