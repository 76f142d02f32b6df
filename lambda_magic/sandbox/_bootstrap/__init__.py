"""The worker's entry script (``bootstrap.py``), run by path, never imported."""
