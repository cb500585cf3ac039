"""Test configurations shared by the common tests."""
