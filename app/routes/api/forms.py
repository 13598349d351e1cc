"""Signup forms over the API (DESIGN §12.2): create, list, read one. The hosted page and its
POST are public routes (app/routes/forms_public.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from app.deps import SessionDep
from app.models import SignupForm
from app.services.capture import forms as service
from app.services.capture.forms import FormIn

router = APIRouter(tags=["forms"])


def _out(request: Request, form: SignupForm) -> dict[str, Any]:
    base_url = request.app.state.settings.base_url
    return {
        **service.form_json(form),
        "url": service.hosted_url(base_url, form),
        "embed": service.embed_snippet(base_url, form),
    }


@router.post(
    "/forms",
    status_code=status.HTTP_201_CREATED,
    summary="Create a signup form",
    responses={
        409: {"description": "A form with this key exists; nothing was written."},
        422: {"description": "The reasons, in plain words; nothing was written."},
    },
)
def create_form(request: Request, body: FormIn, session: SessionDep) -> dict[str, Any]:
    form = service.create_form(session, body, request.app.state.clock.now())
    return _out(request, form)


@router.get("/forms", summary="Every signup form, by name")
def all_forms(request: Request, session: SessionDep) -> list[dict[str, Any]]:
    return [_out(request, form) for form in service.all_forms(session)]


@router.get("/forms/{key}", summary="One signup form, with its address and embed snippet")
def one_form(key: str, request: Request, session: SessionDep) -> dict[str, Any]:
    return _out(request, service.get_form(session, key))
