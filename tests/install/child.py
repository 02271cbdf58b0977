"""A separate process for the kill test: ``python tests/install/child.py DB_PATH build|install|snapshot``.

It uses a file SQLite database with tables created from the models (migrations disabled, as in the
test suite), so a real ``SIGKILL`` can hit an install mid-way.
"""

from __future__ import annotations

import json
import os
import sys
import time


def setup(db_path: str) -> None:
    from dotsync.testing.standalone import configure_without_migrations

    configure_without_migrations(f"sqlite:///{db_path}")


def build() -> None:
    from django.core.management import call_command

    from dotsync.store.oscar.observers import muted
    from dotsync.testing.scope import make_scope
    from dotsync.testing.shop import build_shop, make_customer, place_order

    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    with muted():
        scope = make_scope()
        shop = build_shop(scope)
        for i in range(40):  # enough ids that a one-id chunk install takes a while
            customer = make_customer(f"extra{i}@example.com", "Extra", str(i), with_address=False)
            place_order(customer, [shop.products["mug"]], scope.stores[i % 3])


def install(pause: float) -> None:
    from dotsync.install import backfill

    def slow(source, lo, hi, written):
        print(f"chunk {source.table}:{source.name} {lo}", flush=True)
        time.sleep(pause)

    backfill(chunk_size=1, on_chunk=slow)
    print("finished", flush=True)


def snapshot() -> None:
    sys.path.insert(0, os.getcwd())
    from tests.install.expected import snapshot as take

    print(json.dumps(take()))


if __name__ == "__main__":
    setup(sys.argv[1])
    mode = sys.argv[2]
    if mode == "build":
        build()
    elif mode == "install":
        install(float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
    else:
        snapshot()
