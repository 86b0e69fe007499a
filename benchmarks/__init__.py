"""asyncflow's benchmarks: ``python -m benchmarks`` prints the table the README shows."""
