"""A local server that speaks the dotdigital API subset dotsync uses (``dotsync sandbox``).

See docs/sandbox.md. Entry points: :func:`dotsync.platform.sandbox.server.run_in_thread`,
:func:`dotsync.platform.sandbox.server.serve`, and :class:`dotsync.platform.sandbox.control.SandboxControl`.
"""
