"""Logging in and out of the curators' pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.deps import COOKIE, SessionDep, SettingsDep
from service.core.errors import Unauthorized
from service.core.security import actor_for_token
from service.ui.rendering import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login page."""
    return render(request, "login.html")


@router.post("/login")
def login(
    request: Request, session: SessionDep, settings: SettingsDep, token: Annotated[str, Form()]
) -> Response:
    """Check the token and keep it in a cookie."""
    try:
        actor_for_token(session, settings.secret_key, token.strip())
    except Unauthorized:
        return render(request, "login.html", 401, error="Токен не подошёл. Проверьте и повторите.")
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=12 * 3600,
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    """Forget the token."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
