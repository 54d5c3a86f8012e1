"""Case store: call records, IVR paths, recordings, cases with SLA, on SQLAlchemy (async).

Entry points: `open_store(settings_or_url)` -> `Store` (`.cases` repository, `.writer()`,
`.recordings`), `check_schema(engine)` / `upgrade(engine)`, `store_settings(config)`.
"""

from casestore.errors import (
    CaseStoreError,
    IllegalCaseTransition,
    InvalidInput,
    NotFound,
    SchemaError,
    StoreUnavailable,
)
from casestore.ivr_feed import IvrStepRecord
from casestore.repository import CaseRepository
from casestore.schema import check_schema, upgrade
from casestore.settings import StoreConfigError, StoreSettings, parse_store_settings, store_settings
from casestore.sla import DEFAULT_SLA_RULES, SlaPolicy, SlaRule
from casestore.store import Store, attached_store, open_store
from casestore.views import CallView, CaseView, CustomerView, ScreenPop
from casestore.workflow import CaseStatus
from casestore.writer import CallWriter, WriterStats

__all__ = [
    "DEFAULT_SLA_RULES",
    "CallView",
    "CallWriter",
    "CaseRepository",
    "CaseStatus",
    "CaseStoreError",
    "CaseView",
    "CustomerView",
    "IllegalCaseTransition",
    "InvalidInput",
    "IvrStepRecord",
    "NotFound",
    "SchemaError",
    "ScreenPop",
    "SlaPolicy",
    "SlaRule",
    "Store",
    "StoreConfigError",
    "StoreSettings",
    "StoreUnavailable",
    "WriterStats",
    "attached_store",
    "check_schema",
    "open_store",
    "parse_store_settings",
    "store_settings",
    "upgrade",
]
