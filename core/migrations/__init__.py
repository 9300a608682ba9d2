"""Alembic migrations, shipped inside the package so the installed command works anywhere."""
