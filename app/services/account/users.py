"""People who log into the UI."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from app.clock import utcnow
from app.i18n import _
from app.models import User
from app.security import hash_password, verify_password
from app.services.account.sessions import end_user_sessions
from app.services.errors import Conflict, Invalid, NotFound

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, *, email: str, password: str, name: str = "") -> User:
    email = normalize_email(email)
    if not _EMAIL.match(email):
        raise Invalid(_("“%(email)s” is not an email address.") % {"email": email})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("The password must have at least %(count)s characters.")
            % {"count": MIN_PASSWORD_LENGTH}
        )
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise Conflict(_("A user with the email %(email)s already exists.") % {"email": email})
    user = User(email=email, name=name.strip(), password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    ok = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        return None
    user.last_login_at = utcnow()
    session.add(user)
    return user


def list_users(session: Session) -> Sequence[User]:
    return session.exec(select(User).order_by(col(User.created_at))).all()


def set_active(session: Session, user_id: int, *, active: bool, acting_user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("This user does not exist."))
    if not active and user_id == acting_user_id:
        raise Invalid(_("You cannot deactivate your own account."))
    user.is_active = active
    session.add(user)
    if not active:
        end_user_sessions(session, user_id)
    return user


def change_password(
    session: Session, user: User, *, current: str, new: str, keep_session: str | None
) -> None:
    """Set a new password; every other session of the user ends (a thief's copy too)."""
    if not verify_password(current, user.password_hash):
        raise Invalid(_("Your current password is not right."))
    _check_new_password(new)
    user.password_hash = hash_password(new)
    session.add(user)
    assert user.id is not None
    end_user_sessions(session, user.id, keep=keep_session)


def set_password(session: Session, *, email: str, new: str) -> User:
    """An administrator's reset (``parcours users password``): no current password asked,
    and every session of the user ends."""
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise NotFound(_("There is no user with the email %(email)s.") % {"email": email})
    _check_new_password(new)
    user.password_hash = hash_password(new)
    session.add(user)
    assert user.id is not None
    end_user_sessions(session, user.id)
    return user


def _check_new_password(new: str) -> None:
    if len(new) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("The new password must have at least %(count)s characters.")
            % {"count": MIN_PASSWORD_LENGTH}
        )


def count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(User)).one()
