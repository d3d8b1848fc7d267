"""Service commands of the `nastavnik` command line: demo, serve, db, orgs, users."""

from __future__ import annotations

from pathlib import Path

import typer

orgs_app = typer.Typer(help="Организации (школы).", no_args_is_help=True)
users_app = typer.Typer(help="Пользователи и их токены.", no_args_is_help=True)
db_app = typer.Typer(help="База данных сервиса.", no_args_is_help=True)


def demo(
    seed: int = typer.Option(7, help="Зерно генератора демонстрационных данных."),
) -> None:
    """Демонстрация: подобрать пары для небольшой случайной школы и напечатать их."""
    import numpy as np

    from matching import Problem, solve

    rng = np.random.default_rng(seed)
    n_mentees, n_mentors = 12, 5
    scores = rng.uniform(0.0, 1.0, size=(n_mentees, n_mentors)).round(3)
    allowed = rng.uniform(size=scores.shape) < 0.6
    capacity = rng.integers(1, 4, size=n_mentors)
    result = solve(Problem(scores, capacity, allowed=allowed, min_score=0.2))
    typer.echo(f"Наставляемых: {n_mentees}, наставников: {n_mentors}, мест: {int(capacity.sum())}")
    for mentee, mentor in result.pairs:
        typer.echo(
            f"  наставляемый {mentee:>2} — наставник {mentor} (оценка {scores[mentee, mentor]:.3f})"
        )
    typer.echo(f"Без пары: {', '.join(map(str, result.unmatched)) or 'нет'}")
    typer.echo(f"Сумма оценок: {result.total_score:.3f}")


def _fail(exc: Exception) -> typer.Exit:
    from service.core.errors import ServiceError

    message = exc.message if isinstance(exc, ServiceError) else str(exc)
    typer.echo(f"Ошибка: {message}", err=True)
    return typer.Exit(code=1)


def _database() -> object:
    from service.core.config import get_settings
    from service.core.db import Database, upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    return Database(settings.database_url)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Создать или обновить схему базы данных (NASTAVNIK_DATABASE_URL)."""
    from service.core.config import get_settings
    from service.core.db import upgrade

    upgrade(get_settings().database_url)
    typer.echo("База данных в актуальном состоянии.")


@orgs_app.command("add")
def orgs_add(
    code: str = typer.Argument(
        ..., help="Код школы (латиница, цифры, '_', '.', '-'); он в адресах API."
    ),
    name: str = typer.Option(..., "--name", help="Название школы."),
    municipality: str | None = typer.Option(None, "--municipality", help="Муниципалитет."),
    region: str | None = typer.Option(None, "--region", help="Регион (субъект РФ)."),
) -> None:
    """Добавить школу."""
    from service.accounts.accounts import add_organisation
    from service.core.db import Database
    from service.core.errors import ServiceError

    db = _database()
    assert isinstance(db, Database)
    try:
        with db.write() as session:
            add_organisation(session, code, name, municipality, region)
    except ServiceError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    typer.echo(f"Школа {code} добавлена.")


@users_app.command("add")
def users_add(
    login: str = typer.Option(..., "--login", help="Имя пользователя."),
    role: str = typer.Option(..., "--role", help="admin, region, coordinator или curator."),
    org: str | None = typer.Option(None, "--org", help="Код школы (для куратора)."),
    municipality: str | None = typer.Option(
        None, "--municipality", help="Муниципалитет (для координатора; по умолчанию — школы --org)."
    ),
    region: str | None = typer.Option(
        None, "--region", help="Регион (для регионального оператора; по умолчанию — школы --org)."
    ),
) -> None:
    """Добавить пользователя и напечатать его токен (последним словом; он показывается один раз)."""
    from service.accounts.accounts import add_user
    from service.core.config import get_settings
    from service.core.db import Database
    from service.core.errors import ServiceError

    db = _database()
    assert isinstance(db, Database)
    try:
        with db.write() as session:
            token = add_user(
                session, get_settings().secret_key, login, role, org, municipality, region
            )
    except ServiceError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    typer.echo(
        f"Пользователь {login} ({role}) добавлен. Токен (сохраните, он больше не покажется): {token}"
    )


_SAMPLE_OPTION = typer.Option(
    None,
    "--sample",
    help="Папка с примерами анкет (*mentor*.csv, *mentee*.csv): загрузить демо-школу перед запуском.",
)


def serve(
    host: str | None = typer.Option(None, "--host", help="Адрес (по умолчанию 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", help="Порт (по умолчанию 8000)."),
    sample: Path | None = _SAMPLE_OPTION,
) -> None:
    """Запустить сервис (API, страницы для кураторов, документация на /docs)."""
    import uvicorn

    from service.app import create_app
    from service.core.config import get_settings
    from service.core.db import Database

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    db = _database()
    assert isinstance(db, Database)
    if sample is not None:
        from service.sample import DEMO_ORG, load_sample

        token, report = load_sample(db, settings, sample)
        typer.echo(f"Демо-школа «{DEMO_ORG}» загружена из {sample}:")
        for line in report:
            typer.echo(f"  {line}")
        typer.echo(f"Страницы куратора: http://{host}:{port}/login  (токен: {token})")
        typer.echo(f"Документация API:  http://{host}:{port}/docs")
        typer.echo(
            f'Пример: curl -H "Authorization: Bearer {token}" http://{host}:{port}/api/v1/orgs'
        )
    uvicorn.run(create_app(settings, db), host=host, port=port, log_level="info")


# -- branch participation (issue 12): the outbox from the command line (e.g. from cron) --
outbox_app = typer.Typer(help="Письма участникам: напоминания и отправка.", no_args_is_help=True)


@outbox_app.command("remind")
def outbox_remind(org: str = typer.Argument(..., help="Код школы.")) -> None:
    """Поставить в очередь напоминания парам школы (каждое один раз)."""
    from service.core.config import get_settings
    from service.core.db import Database
    from service.core.errors import ServiceError
    from service.core.security import Actor
    from service.participation.pairwork import remind

    settings, db = get_settings(), _database()
    assert isinstance(db, Database)
    try:
        with db.write() as session:
            queued = remind(session, Actor.command_line(), org, secret=settings.secret_key,
                            base_url=settings.public_url, days=settings.link_days,
                            zone=settings.zone)  # fmt: skip
    except ServiceError as exc:
        raise _fail(exc) from exc
    typer.echo(f"Напоминаний в очереди: {queued}.")


@outbox_app.command("send")
def outbox_send() -> None:
    """Отправить письма, срок которых наступил (SMTP из NASTAVNIK_SMTP_*)."""
    from service.core.config import get_settings
    from service.core.db import Database
    from service.notifications.outbox import deliver

    settings, db = get_settings(), _database()
    assert isinstance(db, Database)
    done = deliver(db, settings)
    typer.echo(
        f"Отправлено: {done.sent}; повторим позже: {done.retried}; не отправлено: {done.failed}; "
        f"без почтового сервера: {done.shown}."
    )


def register(app: typer.Typer) -> None:
    """Add the service commands to the root application."""
    app.command("demo")(demo)
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(users_app, name="users")
    app.add_typer(outbox_app, name="outbox")
