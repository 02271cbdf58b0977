"""The end-to-end fixtures (the Oscar shop synced into the sandbox over loopback) for the runtime tests."""

from tests.e2e.conftest import _var_dir, accounts

__all__ = ["_var_dir", "accounts"]
