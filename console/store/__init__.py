"""The farm: providers, task journal and (later) templates and pools, in one SQLite file."""
from .farm import Farm, FarmError, utc_now
from .lock import FarmLock
from .migrations import SCHEMA_VERSION
from .tasks import INTERRUPTED_LINE

__all__ = ["Farm", "FarmError", "FarmLock", "SCHEMA_VERSION", "INTERRUPTED_LINE", "utc_now"]
