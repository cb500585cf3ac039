"""Tests of skmultimodal.inspection."""
