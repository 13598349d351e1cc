"""How each user wants Parcours to speak to them, and how the workspace speaks to contacts."""

from __future__ import annotations

from sqlmodel import Session

from app.clock import utcnow
from app.i18n import _
from app.i18n.speaker import LANGUAGES, supported, time_zone_names
from app.models import User, Workspace
from app.services.errors import Invalid

WORKSPACE_ID = 1


def set_user_preferences(session: Session, user: User, *, language: str, time_zone: str) -> None:
    """``language`` "" follows the browser; ``time_zone`` must be an IANA name (Europe/Paris)."""
    if language and language not in LANGUAGES:
        raise Invalid(_("Choose one of the languages offered."))
    if time_zone not in time_zone_names():
        raise Invalid(_("Choose a time zone from the list, for example Europe/Paris."))
    user.language = language or None
    user.time_zone = time_zone
    session.add(user)
    session.flush()


def workspace(session: Session) -> Workspace:
    found = session.get(Workspace, WORKSPACE_ID)
    if found is None:
        found = Workspace(id=WORKSPACE_ID)
        session.add(found)
        session.flush()
    return found


def contact_language(session: Session, language: str | None) -> str:
    """The language a contact reads: their own when Parcours speaks it, else the workspace's."""
    return supported(language) or workspace_language(session)


def workspace_language(session: Session) -> str:
    found = session.get(Workspace, WORKSPACE_ID)
    return found.contact_language if found is not None else Workspace().contact_language


def set_contact_language(session: Session, language: str) -> None:
    if language not in LANGUAGES:
        raise Invalid(_("Choose one of the languages offered."))
    chosen = workspace(session)
    chosen.contact_language = language
    chosen.updated_at = utcnow()
    session.add(chosen)
    session.flush()
