"""Trunkline's bundled plugins. Each uses only the public surface of ``core``."""
