"""Built-in engines: procedural, no learned weights, fast on a CPU."""
