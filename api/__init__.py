"""Trunkline's HTTP host: the FastAPI app factory, routes and the web console."""
