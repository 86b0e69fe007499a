"""Results: values and where they are stored (public names live in asyncflow.results)."""
