"""Django admin: the configuration screen and the grids (filled in by later modules)."""
