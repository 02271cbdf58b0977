"""Tests of the marketing automation jobs (issue 11)."""
