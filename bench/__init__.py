"""Trunkline's benchmarks: ``python -m bench`` (``make bench``) runs them all.

Each benchmark measures Trunkline and a baseline in the same run and prints the ratio, so the
figures travel between machines better than absolute numbers do. None of this is a timed test.
"""
