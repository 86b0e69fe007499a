"""The task library behind :mod:`asyncflow.tasks` (control flow, resource managers)."""
