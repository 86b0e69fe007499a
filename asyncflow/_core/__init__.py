"""The engine's core: tasks, flows, states, the runner and the run context (private)."""
