"""A folder of CSV and JSON fixtures imported into a CRM, one record type per file.

Never opens a database itself: it hands the records to the CRM it is given.
"""

from __future__ import annotations

import os

from ccdsl.runtime.core.crm.importer import ImportFileError, read_records
from ccdsl.runtime.core.errors import InputError


def crm_type_of(file_name: str) -> str:
    """The record type a fixture file holds: its name without the
    extension and a plural `s` (customers.csv -> customer, order.json ->
    order, callback_tasks.csv -> callback_task; `ss` stays: address.csv)."""
    stem = file_name.rsplit(".", 1)[0]
    return stem[:-1] if stem.endswith("s") and not stem.endswith("ss") else stem


def import_crm_folder(crm, folder: str) -> list[str]:
    """Import every .csv and .json file of a folder into a SQLite CRM, each
    as the record type its name gives (crm_type_of). Returns notes for the
    trace: what was imported from where."""

    notes = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".csv", ".json")):
            continue
        record_type = crm_type_of(name)
        path = os.path.join(folder, name)
        try:
            records = read_records(path, record_type)
        except ImportFileError as exc:
            raise InputError(f"CRM fixtures: {exc}") from None
        crm.upsert(record_type, records)
        notes.append(f"CRM: {len(records)} {record_type} record(s) from {path}")
    return notes
