"""peacegraph: a knowledge graph of the 2025 Ukraine peace negotiations, every fact anchored
to the exact words of a source text."""

__version__ = "0.1.0"
