"""pytest fixtures for the dotdigital sandbox (filled in with the sandbox)."""
