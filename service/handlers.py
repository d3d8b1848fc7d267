"""The one place where errors become answers: the API's JSON and the pages' Russian pages.

Domain errors (:mod:`service.core.errors`) carry their HTTP status; the API answers with the
documented ``ErrorOut`` body (request-validation 422s included, with every problem listed), the
pages with a Russian page — or, after a form sent from one of our pages, back to that page with
the message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.core.deps import cookie_session
from service.core.errors import Busy, CsrfRefused, ServiceError, Unauthorized
from service.core.schemas import ErrorItem, ErrorOut
from service.core.security import Actor
from service.ui.rendering import back, render

__all__ = ["install"]

_UNREADABLE = "Запрос не понят: проверьте адрес страницы или заполните форму заново."
# The framework's own answers (no route at this address, a method the route does not take), in
# Russian, in place of Starlette's English {"detail": "Not Found"}.
_NO_ROUTE = {  # status: (code, the page's message, the API's message)
    404: (
        "not_found",
        "Такой страницы нет: проверьте адрес или начните с главной.",
        "Такого адреса в API нет: проверьте путь.",
    ),
    405: (
        "method_not_allowed",
        "Эта страница так не открывается: вернитесь назад и воспользуйтесь кнопкой на странице.",
        "Этот адрес API не принимает такой метод запроса (допустимые — в заголовке Allow).",
    ),
}


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _json(status: int, body: ErrorOut, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def _body(exc: ServiceError) -> ErrorOut:
    extra = dict(exc.extra)
    errors = [ErrorItem.model_validate(e) for e in extra.pop("errors", [])]
    body = ErrorOut(code=exc.code, detail=exc.message, errors=errors)
    return body.model_copy(update=extra) if extra else body


def _message_page(request: Request, message: str, status: int) -> Response:
    if request.url.path.startswith("/p/"):  # a participant's link: no login, nothing of the service
        return render(request, "participation/error.html", status, message=message)
    found = cookie_session(request)
    actor: Actor | None = found.actor if found else None
    return render(request, "error.html", status, message=message, actor=actor)


def _page_error(request: Request, exc: ServiceError) -> Response:
    if isinstance(exc, Unauthorized):
        return RedirectResponse("/login", status_code=303)
    origin = urlparse(request.headers.get("referer", "")).path
    if (
        request.method == "POST"
        and origin.startswith("/ui")
        and not request.url.path.startswith("/p/")
        and not isinstance(exc, CsrfRefused)
    ):  # only our own pages, never a host
        return back(origin, exc.message, error=True)
    return _message_page(request, exc.message, exc.status)


async def _service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    if _api(request):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _json(exc.status, _body(exc), headers)
    return await run_in_threadpool(_page_error, request, exc)  # it reads the database


_MESSAGES = {
    "missing": "поле не заполнено",
    "int_parsing": "нужно целое число",
    "int_type": "нужно целое число",
    "float_parsing": "нужно число",
    "float_type": "нужно число",
    "bool_type": "нужно true или false",
    "bool_parsing": "нужно true или false",
    "string_type": "нужна строка",
    "date_from_datetime_parsing": "нужна дата ГГГГ-ММ-ДД",
    "date_parsing": "нужна дата ГГГГ-ММ-ДД",
    "date_type": "нужна дата ГГГГ-ММ-ДД",
    "json_invalid": "тело запроса — не JSON",
    "model_attributes_type": "нужен объект JSON",
    "dict_type": "нужен объект JSON",
    "list_type": "нужен список",
    "extra_forbidden": "такого поля нет",
}


def _message(error: dict[str, Any]) -> str:
    """A Russian message for one of pydantic's validation errors."""
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        bound = next(iter(ctx.values()), "")
        words = {
            "less_than_equal": "не больше",
            "greater_than_equal": "не меньше",
            "less_than": "меньше",
            "greater_than": "больше",
        }
        return f"нужно значение {words[kind]} {bound}"
    if kind in ("enum", "literal_error"):
        return f"допустимы: {str(ctx.get('expected', '')).replace(' or ', ' или ')}"
    if kind in ("string_too_long", "too_long"):
        return f"слишком длинно: не больше {ctx.get('max_length', '')}"
    if kind in ("string_too_short", "too_short"):
        return "слишком коротко"
    return str(error.get("msg", "значение не подходит"))


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


# The parameters of the pages (in the address or a form) as a curator knows them.
_PAGE_FIELDS = {
    "year": "Учебный год",
    "mentor": "Наставник",
    "login": "Логин",
    "password": "Пароль",
    "file": "Файл",
    "side": "Чьи анкеты",
    "spec": "Анкета",
    "org": "Школа",
    "return_to": "Страница возврата",
}


def _page_problem(error: dict[str, Any]) -> str:
    """One invalid parameter of a page, named as the curator knows it: «Учебный год» в адресе
    страницы: нужно целое число (указано «abc»)."""
    loc = tuple(error.get("loc", ()))
    name = _location(loc)
    title = _PAGE_FIELDS.get(name, name)
    where = f"«{title}» в адресе страницы" if loc[:1] == ("query",) else f"поле «{title}» формы"
    value = _plain(error.get("input"))
    shown = f" (указано «{value}»)" if isinstance(value, str | int | float) and value != "" else ""
    return f"{where}: {_message(error)}{shown}"


def _page_validation_error(request: Request, exc: RequestValidationError) -> Response:
    """A page's address that names no page (``/ui/pairs/abc``) is 404, as an unknown address;
    a page's parameters that are not valid (``?year=abc``, a form without a field) are 422,
    naming each bad parameter."""
    errors = list(exc.errors())
    if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
        return _message_page(request, _NO_ROUTE[404][1], 404)
    problems = "; ".join(_page_problem(e) for e in errors)
    message = f"Запрос не понят: {problems}. Проверьте адрес страницы или заполните форму заново."
    return _message_page(request, message, 422)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _api(request):
        return await run_in_threadpool(_page_validation_error, request, exc)
    errors = [
        ErrorItem(
            column=_location(tuple(error.get("loc", ()))) or None,
            value=_plain(error.get("input")),
            message=_message(error),
        )
        for error in exc.errors()
    ]
    detail = f"Запрос не принят: проблем — {len(errors)}. " + "; ".join(
        f"{e.column}: {e.message}" if e.column else e.message for e in errors
    )
    return _json(422, ErrorOut(code="invalid", detail=detail, errors=errors))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value if not isinstance(value, str) or len(value) <= 200 else value[:200] + "…"
    return None


async def _http_error(request: Request, exc: Exception) -> Response:
    """No route at the address (404) or not for this method (405) answers in Russian: a page, or
    the API's ``ErrorOut``. A body the framework cannot even parse (bytes that are not UTF-8 JSON,
    a broken form) answers 422 like any other invalid request, not an undocumented 400."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in _NO_ROUTE:
        code, message, api_message = _NO_ROUTE[exc.status_code]
        if _api(request):
            headers = dict(exc.headers) if exc.headers else None
            return _json(exc.status_code, ErrorOut(code=code, detail=api_message), headers)
        page = await run_in_threadpool(_message_page, request, message, exc.status_code)
        page.headers.update(exc.headers or {})
        return page
    if exc.status_code != 400:
        return await http_exception_handler(request, exc)
    if not _api(request):
        return await run_in_threadpool(_message_page, request, _UNREADABLE, 422)
    detail = "Запрос не принят: тело запроса не читается (ожидался JSON в UTF-8 или форма)."
    item = ErrorItem(column="body", message=str(exc.detail))
    return _json(422, ErrorOut(code="invalid", detail=detail, errors=[item]))


async def _database_error(request: Request, exc: Exception) -> Response:
    """SQLite's "database is locked" after its busy timeout is a Russian 503, not a 500."""
    assert isinstance(exc, OperationalError)
    if "database is locked" not in str(exc.orig):
        raise exc
    return await _service_error(request, Busy())


def install(app: FastAPI) -> None:
    """Map every domain error and request-validation error to an answer, in one place."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
