from dotsync.config import get_config
from dotsync.exceptions import ConfigurationError
from dotsync.models import Contact, WebsiteConfig


def test_tables_exist_and_scope_builds(scope):
    assert {s.website.code for s in scope.stores} == {"main", "outlet"}
    assert Contact._meta.db_table == "email_contact"


def test_config_lists_every_problem(scope):
    row = WebsiteConfig.objects.get(website=scope.main)
    row.enabled = True
    row.customers_address_book_id = 5
    row.guests_address_book_id = 5
    row.api_endpoint = "https://evil.example.com"
    row.save()
    cfg = get_config(scope.main)
    try:
        cfg.validate()
    except ConfigurationError as exc:
        assert len(exc.problems) == 4, exc.problems
    else:
        raise AssertionError("expected ConfigurationError")
