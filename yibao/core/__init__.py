"""Core plumbing shared by every domain: money, errors, settings, database."""
