"""Utilities: estimator discovery and test helpers."""
