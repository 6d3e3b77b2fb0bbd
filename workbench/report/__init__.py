"""Turning result documents into tables and files."""
