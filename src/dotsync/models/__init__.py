"""The sync tables and the tables that support them.

Every table name here is part of dotsync's interface (``db_table`` is fixed). Import models from
this package: ``from dotsync.models import Contact``.
"""

from dotsync.models.automation import (
    AbandonedCart,
    Automation,
    AutomationWindow,
    Campaign,
    CampaignEvent,
    CartStatus,
)
from dotsync.models.erasure import Erasure, ErasureOutcome, PlatformErasure
from dotsync.models.importer import Importer
from dotsync.models.monitor import MonitorAlert, NotifyStatus
from dotsync.models.newsletter import NewsletterSubscriber
from dotsync.models.rules import Rule, RuleExclusion, RuleType
from dotsync.models.runtime import JobLease, JobNudge, JobRun, RunOutcome
from dotsync.models.scope import Store, StoreConfig, Website, WebsiteConfig
from dotsync.models.sms import SmsFailReason, SmsOrderQueue, SmsStatus
from dotsync.models.storefront import EmailCouponAttribute, ProductView
from dotsync.models.support import ContactConsent, FailedAuth, InstallProgress
from dotsync.models.sync import (
    Catalog,
    Contact,
    HoldReason,
    Order,
    Quote,
    Review,
    SyncState,
    SyncStatus,
    Wishlist,
)
from dotsync.models.usage import ApiUsage

__all__ = [
    "AbandonedCart",
    "ApiUsage",
    "Automation",
    "AutomationWindow",
    "Campaign",
    "CampaignEvent",
    "CartStatus",
    "Catalog",
    "Contact",
    "ContactConsent",
    "EmailCouponAttribute",
    "Erasure",
    "ErasureOutcome",
    "FailedAuth",
    "HoldReason",
    "Importer",
    "InstallProgress",
    "JobLease",
    "JobNudge",
    "JobRun",
    "MonitorAlert",
    "NewsletterSubscriber",
    "NotifyStatus",
    "Order",
    "PlatformErasure",
    "ProductView",
    "Quote",
    "Review",
    "Rule",
    "RuleExclusion",
    "RuleType",
    "RunOutcome",
    "SmsFailReason",
    "SmsOrderQueue",
    "SmsStatus",
    "Store",
    "StoreConfig",
    "SyncState",
    "SyncStatus",
    "Website",
    "WebsiteConfig",
    "Wishlist",
]
