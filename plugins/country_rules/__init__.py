"""Configuration-driven country blocking for outbound calls."""
