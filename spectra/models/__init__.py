"""Chemometric models: calibrated classifier, PCA novelty (T²/Q), constrained unmixing, and their bundle."""
