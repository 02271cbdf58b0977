"""Build websites and stores for the demo and the tests (:mod:`dotsync.testing.scope` re-exports it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.sites.models import Site

from dotsync.models import Store, Website, WebsiteConfig


@dataclass
class Scope:
    """Two websites, three stores: ``main`` has ``main_en`` and ``main_fr``; ``outlet`` has ``outlet_en``."""

    main: Website
    outlet: Website
    main_en: Store
    main_fr: Store
    outlet_en: Store

    @property
    def websites(self) -> list[Website]:
        """Both websites."""
        return [self.main, self.outlet]

    @property
    def stores(self) -> list[Store]:
        """All three stores."""
        return [self.main_en, self.main_fr, self.outlet_en]


def make_scope() -> Scope:
    """Create (or fetch) the standard two-website, three-store layout, each store on its own Site.

    ``main_en`` is bound to Django's default Site (id 1), so Oscar orders placed without a request
    land in the main website.
    """
    main, _ = Website.objects.get_or_create(code="main", defaults={"name": "Main Website"})
    outlet, _ = Website.objects.get_or_create(code="outlet", defaults={"name": "Outlet Website"})
    site1 = Site.objects.get_or_create(pk=1, defaults={"domain": "main.example.com", "name": "Main"})[0]
    site1.domain, site1.name = "main.example.com", "Main English"
    site1.save()
    site_fr = Site.objects.get_or_create(domain="fr.main.example.com", defaults={"name": "Main French"})[0]
    site_outlet = Site.objects.get_or_create(domain="outlet.example.com", defaults={"name": "Outlet"})[0]
    main_en, _ = Store.objects.get_or_create(
        code="main_en", defaults={"name": "Main English", "website": main, "site": site1}
    )
    main_fr, _ = Store.objects.get_or_create(
        code="main_fr",
        defaults={"name": "Main French", "website": main, "site": site_fr, "requires_confirmation": True},
    )
    outlet_en, _ = Store.objects.get_or_create(
        code="outlet_en", defaults={"name": "Outlet English", "website": outlet, "site": site_outlet}
    )
    for website, store in ((main, main_en), (outlet, outlet_en)):
        if website.default_store_id is None:
            website.default_store = store
            website.save(update_fields=["default_store"])
        WebsiteConfig.objects.get_or_create(website=website)
    return Scope(main, outlet, main_en, main_fr, outlet_en)
