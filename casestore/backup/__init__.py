"""Backups of the case store and its recordings (docs/backup.md).

    manifest = await create_backup(engine, recordings, location, "full")
    report = await verify_backup(location, find(location, None))
    await restore_backup(location, manifest, empty_engine, recordings)
"""

from casestore.backup.create import create_backup
from casestore.backup.manifest import BackupError, Manifest, catalog, find
from casestore.backup.restore import RestoreReport, restore_backup, restore_database
from casestore.backup.verify import VerifyReport, verify_backup

__all__ = [
    "BackupError",
    "Manifest",
    "RestoreReport",
    "VerifyReport",
    "catalog",
    "create_backup",
    "find",
    "restore_backup",
    "restore_database",
    "verify_backup",
]
