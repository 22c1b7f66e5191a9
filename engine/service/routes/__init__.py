"""One module per family of endpoints, each with its ``router``."""
