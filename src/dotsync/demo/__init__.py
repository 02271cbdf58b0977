"""The demo: a realistic Oscar shop seeded on a fresh database, installed, and summarised."""
