"""Lets an integrator check that their key works, and which one it is."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import ApiKeyDep

router = APIRouter(tags=["account"])


class KeyInfo(BaseModel):
    name: str
    prefix: str
    created_at: datetime


@router.get("/whoami", response_model=KeyInfo)
def whoami(key: ApiKeyDep) -> KeyInfo:
    return KeyInfo(name=key.name, prefix=key.prefix, created_at=key.created_at)
