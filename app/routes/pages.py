"""The product's pages. Each needs a logged-in user."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from app.deps import SessionDep, SettingsDep, get_current_user
from app.services.insights.overview import overview
from app.templating import render

router = APIRouter(
    dependencies=[Depends(get_current_user)],
    include_in_schema=False,
    default_response_class=HTMLResponse,
)


@router.get("/")
def home(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    figures = overview(session, request.app.state.clock.now())
    return render(request, "home.html", {"figures": figures, "base_url": settings.base_url})
