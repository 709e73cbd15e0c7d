"""Benchmarks: scripts that print figures beside a raw baseline measured in the same run."""
