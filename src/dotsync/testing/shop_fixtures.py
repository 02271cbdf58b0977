"""pytest fixtures for a real Oscar shop (filled in with the Oscar adapter)."""
