"""Logging in and out of the curators' pages: a login and a password open a server-side session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.core.deps import COOKIE, DbDep, SettingsDep
from service.core.security import authenticate, close_web_session, open_web_session
from service.core.throttle import LoginThrottle
from service.ui.rendering import back, render

__all__ = ["router", "throttle"]

router = APIRouter(include_in_schema=False)

_WRONG = "Логин или пароль не подошёл. Проверьте раскладку и повторите."
_TOO_MANY = "Слишком много неудачных попыток входа. Подождите минуту и повторите."


def throttle(request: Request) -> LoginThrottle:
    """The application's counter of failed logins."""
    found: LoginThrottle = request.app.state.login_throttle
    return found


# The pages' icon: the service's initial on its blue (an SVG, which browsers take as an icon
# when the page's <link rel="icon"> says so). Served to anyone: it holds nothing.
_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1f4e79"/>'
    '<text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="700" '
    'text-anchor="middle" fill="#fff">Н</text></svg>'
)


@router.get("/favicon.ico")
def icon() -> Response:
    """The pages' icon (browsers ask for it at this address on every site)."""
    return Response(
        _ICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login page."""
    return render(request, "login.html")


@router.post("/login")
def login(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    login: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Check the login and password; open a session and keep its id in a cookie.

    After ``login_attempts_per_minute`` failures in a minute for this login or from this
    address, further attempts are refused (429) without checking the password.
    """
    login = login.strip()
    counter = throttle(request)
    keys = (f"login:{login.casefold()}", f"address:{request.client.host if request.client else ''}")
    if counter.blocked(*keys):
        return render(request, "login.html", 429, error=_TOO_MANY, login=login)
    with db.read() as session:
        user = authenticate(session, login, password)
    if user is None:
        counter.failed(*keys)
        return render(request, "login.html", 401, error=_WRONG, login=login)
    with db.write() as session:
        key, _ = open_web_session(session, settings.secret_key, user.id, settings.session_hours)
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(
        COOKIE,
        key,
        httponly=True,
        samesite="strict",
        secure=settings.cookies_secure,
        max_age=settings.session_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep, settings: SettingsDep) -> RedirectResponse:
    """End the session: it no longer opens anything, even if the cookie was copied."""
    with db.write() as session:
        close_web_session(session, settings.secret_key, request.cookies.get(COOKIE))
    response = back("/login", "Вы вышли. Чтобы продолжить работу, войдите снова.")
    response.delete_cookie(COOKIE)
    return response
