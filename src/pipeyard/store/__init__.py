"""Metadata store (SQLAlchemy: SQLite or PostgreSQL) and artifact storage."""
