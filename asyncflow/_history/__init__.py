"""Run history: a recorder the engine attaches to runs, and the database behind it.

The engine calls :func:`._recorder.recorder_for` when a run has history on;
:mod:`asyncflow.history` is the public face (reading runs back, pruning) and
:mod:`asyncflow._ui` the dashboard.
"""
