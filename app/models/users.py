"""People who log into the UI, and the API keys that shops and websites use."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import created_at_field, id_field, optional_time_field


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = id_field()
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = optional_time_field()
    # None: the browser's language (Accept-Language), the configured time zone.
    language: str | None = Field(default=None, max_length=8)
    time_zone: str | None = Field(default=None, max_length=64)


class Workspace(SQLModel, table=True):
    """Choices made once for the whole account; a single row (id 1), made on first read."""

    __tablename__ = "workspace"

    id: int | None = id_field()
    # The language of public pages, email footers and starter messages for a contact whose
    # own ``language`` is unknown.
    contact_language: str = Field(default="en", max_length=8)
    updated_at: datetime = created_at_field()


class UserSession(SQLModel, table=True):
    """A logged-in browser. The signed cookie only names it, so deleting the row (logout,
    "log out everywhere", a changed password, a deactivated user) ends it for real: a copied
    cookie stops working."""

    __tablename__ = "user_sessions"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    created_at: datetime = created_at_field()
    user_agent: str = Field(default="", max_length=300)


class ApiKey(SQLModel, table=True):
    """Only a SHA-256 of the key is kept; the key itself is shown once, when created."""

    __tablename__ = "api_keys"

    id: int | None = id_field()
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = optional_time_field()
    revoked_at: datetime | None = optional_time_field()
