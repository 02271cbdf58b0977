"""Running dotsync on its own: locks, recorded job runs and the embedded scheduler.

:mod:`.locks` (lease rows, Redis), :mod:`.runs` (``run_job``, "from time") and :mod:`.scheduler`
(``dotsync run`` and ``dotsync jobs``).
"""
