"""The sandbox carrier: a simulated carrier for demos, tests, and plugin authors to read."""
