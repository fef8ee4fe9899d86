"""Repositories: every MongoDB query and every Redis data structure lives here."""
