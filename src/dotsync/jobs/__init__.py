"""Jobs: plain functions over the sync tables, run by the scheduler, Celery or ``dotsync sync``."""
