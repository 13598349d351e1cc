"""CSV import of contacts: upload, column mapping, preview, then chunked work in the worker.

The file is kept in the database (any worker can read it). The worker processes it in chunks
of ``CHUNK`` rows, one transaction each, and commits ``processed_rows`` with the chunk, so the
progress bar moves and a retried job resumes where the last one stopped. Each rejected row is
kept with its reason for the downloadable report. Rows whose email was erased on request
(GDPR) are rejected with the reason "erased on request", never imported again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import defer
from sqlmodel import Session, col

from app.i18n import N_, _, current, ngettext
from app.models import ContactImport, ImportRejection, ImportStatus
from app.services.contacts.fields import (
    BUILTIN_NORMALIZERS,
    ConsentChange,
    ContactData,
    FieldProblem,
    check_attribute_name,
    normalize_birthday,
    normalize_external_id,
)
from app.services.contacts.lists import lists_by_keys
from app.services.errors import Invalid, NotFound
from app.services.keys import ascii_folded

CHUNK = 1000
DELIMITERS = ",;\t|"
PREVIEW_ROWS = 5
FIELDS = {
    "ignore": N_("Do not import"),
    "email": N_("Email"),
    "external_id": N_("Your id (external id)"),
    "phone": N_("Phone (+33…)"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "birthday": N_("Birthday (YYYY-MM-DD)"),
    "timezone": N_("Time zone"),
    "language": N_("Language (fr, en…)"),
    "score": N_("Score"),
    "email_consent": N_("Email consent (yes/no)"),
    "sms_consent": N_("SMS consent (yes/no)"),
    "attribute": N_("Other attribute…"),
}
# The kinds of a custom attribute; the values are labels, translated where shown.
TYPES = {"text": N_("text"), "number": N_("number"), "boolean": N_("yes/no"), "date": N_("date")}
_GUESSES = {
    "email": ("email", "e-mail", "mail", "email address", "courriel", "adresse email"),
    "external_id": ("external_id", "external id", "customer id", "customer_id", "id client"),
    "phone": ("phone", "mobile", "telephone", "téléphone", "phone number", "portable"),
    "first_name": ("first name", "first_name", "firstname", "given name", "prénom", "prenom"),
    "last_name": ("last name", "last_name", "lastname", "surname", "family name", "nom"),
    "birthday": ("birthday", "birth date", "birthdate", "date of birth", "anniversaire"),
    "timezone": ("timezone", "time zone", "tz", "fuseau horaire"),
    "language": ("language", "langue", "lang", "locale", "preferred language"),
    "score": ("score", "lead score"),
    "email_consent": ("email consent", "email_consent", "newsletter", "optin", "opt-in"),
    "sms_consent": ("sms consent", "sms_consent", "sms optin"),
}
TRUE_WORDS = {"yes", "y", "true", "1", "oui", "x", "granted"}
FALSE_WORDS = {"no", "n", "false", "0", "non", ""}


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # what Excel saves on Windows


def sniff_delimiter(text: str) -> str:
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return max(DELIMITERS, key=first.count) if first else ","


def rows(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def guess_mapping(columns: list[str], samples: list[list[str]]) -> dict[str, dict[str, str]]:
    mapping: dict[str, dict[str, str]] = {}
    taken: set[str] = set()
    for index, column in enumerate(columns):
        label = column.strip().lower()
        field = next((f for f, names in _GUESSES.items() if label in names), None)
        if field and field not in taken:
            taken.add(field)
            mapping[column] = {"field": field}
            continue
        values = [row[index] for row in samples if index < len(row) and row[index].strip()]
        mapping[column] = {"field": "attribute", "name": slug(column), "type": guess_type(values)}
    return mapping


def slug(column: str) -> str:
    """An attribute name for a column ("Prénom" → ``prenom``): accents folded as keys are."""
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", ascii_folded(column).strip().lower()).strip("_")
    return name[:64] or "column"


def guess_type(values: list[str]) -> str:
    if not values:
        return "text"
    if all(_number(v) is not None for v in values):
        return "number"
    if all(v.strip().lower() in TRUE_WORDS | FALSE_WORDS for v in values):
        return "boolean"
    if all(re.match(r"^\d{4}-\d{2}-\d{2}$", v.strip()) for v in values):
        return "date"
    return "text"


def _number(text: str) -> int | float | None:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if re.match(r"^-?\d+,\d+$", cleaned):
        cleaned = cleaned.replace(",", ".")  # 12,5 in French spreadsheets
    try:
        number = float(cleaned)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in cleaned else number


def create_import(
    session: Session,
    *,
    filename: str,
    raw: bytes,
    max_bytes: int,
    created_by_id: int | None,
    now: datetime,
) -> ContactImport:
    if not raw.strip():
        raise Invalid(_("The file is empty. Choose a CSV file with a header row and contacts."))
    if len(raw) > max_bytes:
        size = max_bytes // 1_000_000
        raise Invalid(_("The file is larger than %(size)s MB; split it in parts.") % {"size": size})
    text = decode(raw)
    if "\x00" in text:
        # What UTF-16 exports and binary files hold; the database could not store it anyway.
        raise Invalid(
            _(
                "This file holds NUL characters, so it is not a CSV text file. "
                "Save it again as CSV (UTF-8) and import that."
            )
        )
    delimiter = sniff_delimiter(text)
    reader = rows(text, delimiter)
    try:
        header = next(reader)
        samples = [row for _, row in zip(range(PREVIEW_ROWS), reader, strict=False)]
        total = len(samples) + sum(1 for row in reader if any(cell.strip() for cell in row))
    except csv.Error as error:
        words = {"error": error}
        raise Invalid(_("This does not read as a CSV file (%(error)s).") % words) from None
    columns = [c.strip() or f"column {i + 1}" for i, c in enumerate(header)]
    if len(columns) != len(set(columns)):
        raise Invalid(_("Two columns have the same name; rename one in the header row."))
    if not columns or total == 0:
        raise Invalid(_("The file has a header row but no contacts under it."))
    upload = ContactImport(
        filename=filename.replace("\x00", "")[:255] or "contacts.csv",
        content=text,
        delimiter=delimiter,
        columns=columns,
        mapping=guess_mapping(columns, samples),
        total_rows=total,
        created_by_id=created_by_id,
        language=current().language,  # the worker writes the report's reasons in it
        created_at=now,
    )
    session.add(upload)
    session.flush()
    return upload


def get_import(session: Session, import_id: int, *, with_file: bool = True) -> ContactImport:
    """The import; without ``with_file`` the (possibly large) CSV text is not loaded."""
    query = select(ContactImport).where(col(ContactImport.id) == import_id)
    if not with_file:
        query = query.options(defer(ContactImport.content))  # type: ignore[arg-type]
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(_("This import does not exist (any more)."))
    return found


def preview(upload: ContactImport) -> list[list[str]]:
    reader = rows(upload.content, upload.delimiter)
    next(reader, None)
    return [row for _, row in zip(range(PREVIEW_ROWS), reader, strict=False)]


def set_mapping(
    session: Session,
    upload: ContactImport,
    mapping: dict[str, dict[str, str]],
    *,
    list_key: str | None,
    consent_source: str | None,
) -> None:
    """Checks the marketer's choices and queues the import; Invalid says what to fix."""
    if upload.status != ImportStatus.mapping:
        raise Invalid(_("This import has already started."))
    used: dict[str, str] = {}
    for column in upload.columns:
        choice = mapping.get(column, {"field": "ignore"})
        field = choice.get("field", "ignore")
        if field not in FIELDS:
            raise Invalid(_("Column “%(column)s”: choose what it holds.") % {"column": column})
        if field == "attribute":
            try:
                check_attribute_name(choice.get("name", ""))
            except FieldProblem as problem:
                words = {"column": column, "problem": problem}
                raise Invalid(_("Column “%(column)s”: %(problem)s.") % words) from None
            if choice.get("type") not in TYPES:
                words = {"column": column}
                raise Invalid(_("Column “%(column)s”: choose the kind of values it holds.") % words)
            field = "attribute:" + choice["name"]
        if field != "ignore" and field in used:
            words = {"first": used[field], "column": column}
            message = _("Columns “%(first)s” and “%(column)s” both go to the same field.")
            raise Invalid(message % words)
        used[field] = column
    if "email" not in used and "external_id" not in used:
        raise Invalid(_("Choose the column that holds the email (or your own contact id)."))
    if list_key:
        lists_by_keys(session, [list_key])
    upload.mapping = {c: mapping.get(c, {"field": "ignore"}) for c in upload.columns}
    upload.list_key = list_key or None
    upload.consent_source = (consent_source or "").strip()[:200] or None
    upload.status = ImportStatus.queued
    session.add(upload)


@dataclass
class RowResult:
    number: int  # 1-based row number in the file, the header being row 1
    data: ContactData | None
    reason: str | None
    cells: list[str]


def parse_row(upload: ContactImport, number: int, cells: list[str], now: datetime) -> RowResult:
    if len(cells) != len(upload.columns):
        reason = ngettext(
            "this row has %(count)s cell but the header has %(columns)s",
            "this row has %(count)s cells but the header has %(columns)s",
            len(cells),
        ) % {"count": len(cells), "columns": len(upload.columns)}
        return RowResult(number, None, reason, cells)
    data = ContactData()
    problems: list[str] = []
    source = upload.consent_source or f"import of {upload.filename}"
    for column, cell in zip(upload.columns, cells, strict=True):
        choice = upload.mapping.get(column, {"field": "ignore"})
        field, value = choice.get("field", "ignore"), cell.strip()
        if field == "ignore" or not value:
            continue
        try:
            if field == "external_id":
                data.external_id = normalize_external_id(value)
            elif field in ("email_consent", "sms_consent"):
                granted = _boolean(value, column)
                change = ConsentChange(granted=granted, source=source, at=now)
                data.consent["email" if field == "email_consent" else "sms"] = change
            elif field == "attribute":
                data.attributes[choice["name"]] = _typed(value, choice.get("type", "text"), column)
            else:
                data.fields[field] = BUILTIN_NORMALIZERS[field](value)
        except FieldProblem as problem:
            problems.append(_("%(name)s: %(problem)s") % {"name": column, "problem": problem})
    if problems:
        return RowResult(number, None, "; ".join(problems), cells)
    if data.email is None and data.external_id is None:
        return RowResult(number, None, _("no email (nor your id) on this row"), cells)
    return RowResult(number, data, None, cells)


def _boolean(value: str, column: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise FieldProblem(_("%(value)s is not yes or no") % {"value": repr(value)})


def _typed(value: str, kind: str, column: str) -> Any:
    if kind == "number":
        number = _number(value)
        if number is None:
            raise FieldProblem(_("%(value)s is not a number") % {"value": repr(value)})
        return number
    if kind == "boolean":
        return _boolean(value, column)
    if kind == "date":
        day = normalize_birthday(value)
        return day.isoformat() if day else None
    return value


def add_rejections(session: Session, upload_id: int, rejected: list[RowResult]) -> None:
    if rejected:
        session.execute(
            insert(ImportRejection),
            [
                {
                    "import_id": upload_id,
                    "row_number": r.number,
                    "reason": r.reason or "",
                    "values": r.cells,
                }
                for r in rejected
            ],
        )


def rejection_report(session: Session, upload: ContactImport) -> Iterator[str]:
    """The rejected rows as CSV: row number, reason, then the row as it was in the file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("row"), _("reason"), *upload.columns])
    query = (
        select(ImportRejection)
        .where(col(ImportRejection.import_id) == upload.id)
        .order_by(col(ImportRejection.row_number))
    )
    for rejection in session.scalars(query):
        writer.writerow([rejection.row_number, rejection.reason, *rejection.values])
    yield buffer.getvalue()


def recent_imports(session: Session, limit: int = 10) -> list[ContactImport]:
    query = select(ContactImport).order_by(col(ContactImport.id).desc()).limit(limit)
    return list(session.scalars(query.options(defer(ContactImport.content))))  # type: ignore[arg-type]
