"""The shop's own process for the acceptance tests: ``python shop_child.py DATABASE_URL VAR ACTION [TAG]``.

It changes the demo shop through Oscar with dotsync's observers on, as the merchant's web process
would, and prints one JSON line: what changed and the commit time (``time.time()``). Actions:

* ``edit``: the first customer whose contact is on the platform (imported once, not suppressed: the demo
  suppresses some) gets a new last name;
* ``order``: that customer places an order (Oscar's ``OrderCreator``, through the demo's builder).

The shop uses the demo's database; ``dotsync run`` (another process) must carry the change over.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(url: str, var_dir: str, action: str, tag: str) -> None:
    sys.path.insert(0, str(ROOT))
    from dotsync.testing.standalone import configure_without_migrations

    configure_without_migrations(url, var_dir=Path(var_dir))
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    from dotsync.demo.shop import place_order
    from dotsync.models import Contact, Store

    contact = (
        Contact.objects.filter(customer_id__isnull=False, suppressed=False, last_imported_at__isnull=False)
        .select_related("website")
        .order_by("pk")
        .first()
    )
    assert contact is not None, "no customer's contact is on the platform after the demo"
    user = get_user_model()._default_manager.get(pk=contact.customer_id)
    out: dict[str, object] = {"email": user.email.lower(), "website": contact.website.code}
    if action == "edit":
        user.last_name = tag
        out["at"] = time.time()
        user.save()
        out["last_name"] = tag
    else:
        store = Store.objects.filter(website_id=contact.website_id).order_by("id").first()
        product = (
            get_model("catalogue", "Product")
            .objects.filter(structure="standalone", is_public=True, stockrecords__num_in_stock__gt=2)
            .order_by("id")
            .first()
        )
        out["at"] = time.time()
        order = place_order(user, [product], store)
        out["order"] = str(order.number)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
