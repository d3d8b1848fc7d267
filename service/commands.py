"""Service commands of the `nastavnik` command line: demo, serve, db, orgs, users, outbox, runs."""

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
    kind: str = typer.Option(
        "school", "--kind", help="Вид: school, college (колледж, вуз), enterprise, other."
    ),
) -> None:
    """Добавить школу (или колледж, предприятие — организацию внешних наставников)."""
    from service.accounts.accounts import add_organisation
    from service.core.db import Database
    from service.core.errors import ServiceError

    db = _database()
    assert isinstance(db, Database)
    try:
        with db.write() as session:
            add_organisation(session, code, name, municipality, region, kind)
    except ServiceError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    typer.echo(f"{'Школа' if kind == 'school' else 'Организация'} {code} добавлена.")


def _password(prompt: bool, stdin: bool) -> str | None:
    import sys

    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if prompt:
        return str(typer.prompt("Пароль", hide_input=True, confirmation_prompt="Ещё раз"))
    return None


def _in_write(work: object) -> object:
    """Run ``work(session)`` in one write transaction; a domain error exits 1 in Russian."""
    from service.core.db import Database
    from service.core.errors import ServiceError

    db = _database()
    assert isinstance(db, Database)
    try:
        with db.write() as session:
            return work(session)  # type: ignore[operator]
    except ServiceError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()


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
    password: bool = typer.Option(
        False, "--password", help="Спросить пароль для входа на страницы."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Прочитать пароль из первой строки stdin."
    ),
    days: int | None = typer.Option(None, "--days", help="Срок токена в днях (по умолчанию 365)."),
) -> None:
    """Добавить пользователя и напечатать его токен (последним словом; он показывается один раз)."""
    from service.accounts.accounts import add_user
    from service.core.config import get_settings

    settings = get_settings()
    secret = _password(password, password_stdin)
    token = _in_write(
        lambda session: add_user(
            session,
            settings.secret_key,
            login,
            role,
            org,
            municipality,
            region,
            password=secret,
            token_days=days or settings.token_days,
        )
    )
    typer.echo(
        f"Пользователь {login} ({role}) добавлен. Токен (сохраните, он больше не покажется): {token}"
    )


@users_app.command("passwd")
def users_passwd(
    login: str = typer.Argument(..., help="Логин пользователя."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Прочитать пароль из первой строки stdin."
    ),
) -> None:
    """Задать пароль для входа на страницы (открытые сеансы пользователя закрываются)."""
    from service.accounts.accounts import set_password

    secret = _password(not password_stdin, password_stdin)
    assert secret is not None
    _in_write(lambda session: set_password(session, login, secret))
    typer.echo(f"Пароль пользователя {login} изменён; его открытые сеансы закрыты.")


@users_app.command("token")
def users_token(
    login: str = typer.Argument(..., help="Логин пользователя."),
    days: int | None = typer.Option(None, "--days", help="Срок токена в днях (по умолчанию 365)."),
) -> None:
    """Выдать пользователю ещё один токен API (последним словом; он показывается один раз)."""
    from service.accounts.accounts import add_token
    from service.core.config import get_settings

    settings = get_settings()
    token = _in_write(
        lambda session: add_token(session, settings.secret_key, login, days or settings.token_days)
    )
    typer.echo(f"Новый токен пользователя {login} (сохраните, он больше не покажется): {token}")


@users_app.command("revoke")
def users_revoke(
    login: str = typer.Argument(..., help="Логин пользователя."),
    token_id: int | None = typer.Option(
        None, "--token", help="Номер токена (из `users list`); без него — все токены и сеансы."
    ),
) -> None:
    """Отозвать токены API и закрыть сеансы пользователя (или один токен: --token N)."""
    from service.accounts.accounts import revoke

    count = _in_write(lambda session: revoke(session, login, token_id))
    typer.echo(f"Отозвано у пользователя {login}: {count} (токены и сеансы).")


@users_app.command("list")
def users_list() -> None:
    """Пользователи, их роли, пароли, токены (номер, срок, отозван ли) и открытые сеансы."""
    from service.accounts.accounts import users

    def fmt(moment: object) -> str:
        return moment.strftime("%Y-%m-%d %H:%M") if moment else "—"  # type: ignore[attr-defined]

    for row in _in_write(users):  # type: ignore[attr-defined]
        password = "пароль задан" if row.has_password else "пароля нет"
        state = "" if row.active else ", отключён"
        typer.echo(
            f"{row.login}\t{row.role}\t{row.scope}\t{password}{state}\tсеансов: {row.sessions}"
        )
        for t in row.tokens:
            status = f"отозван {fmt(t.revoked_at)}" if t.revoked_at else f"до {fmt(t.expires_at)}"
            typer.echo(
                f"  токен № {t.id}: выдан {fmt(t.created_at)}, {status}, "
                f"использован {fmt(t.last_used_at)}"
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
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        envvar="NASTAVNIK_WORKERS",
        help="Процессов сервера (по умолчанию 1; на сервере — по числу ядер).",
    ),
) -> None:
    """Запустить сервис (API, страницы для кураторов, документация на /docs)."""
    import uvicorn

    from service.app import serve_app
    from service.core.config import get_settings
    from service.core.db import Database

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    db = _database()
    assert isinstance(db, Database)
    if sample is not None:
        from service.sample import DEMO_ORG, load_sample

        demo = load_sample(db, settings, sample)
        token = demo.token
        typer.echo(f"Демо-школа «{DEMO_ORG}» загружена из {sample}:")
        for line in demo.report:
            typer.echo(f"  {line}")
        typer.echo(
            f"Страницы куратора: http://{host}:{port}/login  "
            f"(логин: {demo.login}, пароль: {demo.password})"
        )
        typer.echo(f"Токен API для скриптов: {token}")
        typer.echo(f"Документация API:  http://{host}:{port}/docs")
        typer.echo(
            f'Пример: curl -H "Authorization: Bearer {token}" http://{host}:{port}/api/v1/orgs'
        )
    # Browsers (and proxies) keep an idle connection open for a minute or more; uvicorn's own 5 s
    # closed it while a curator read the page, and the next click raced the close (connection
    # reset: 12-40 of 800 requests in the 50-curator load test).
    keep_alive = 75
    if workers == 1:
        uvicorn.run(
            serve_app(settings, db),
            host=host,
            port=port,
            log_level="info",
            timeout_keep_alive=keep_alive,
        )
        return
    # Several processes: each builds its own application (and database pool) from the
    # environment, as `serve_app()` does; the schema is already migrated above.
    db.dispose()
    uvicorn.run(
        "service.app:serve_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        timeout_keep_alive=keep_alive,
    )


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


# -- branch monitoring2 (issue 13): batch runs from the command line (a region's is long) --
runs_app = typer.Typer(
    help="Пакетный подбор пар для муниципалитета или региона (например, по cron).",
    no_args_is_help=True,
)
_OBJECTIVES = ("coverage", "score")
_OBJECTIVE = typer.Option(
    "coverage",
    "--objective",
    help="coverage — больше всего наставляемых с парой, затем лучшая сумма оценок; "
    "score — лучшая сумма оценок.",
)
_MIN_SCORE = typer.Option(
    None,
    "--min-score",
    min=0.0,
    max=1.0,
    help="Пары с оценкой ниже не предлагаются (по умолчанию NASTAVNIK_MIN_SCORE).",
)
_DASK = typer.Option(
    None,
    "--dask-scheduler",
    help="Где считать блоки: tcp://host:8786 (запущенный dask scheduler) или local (локальный "
    "кластер из 2 процессов); по умолчанию NASTAVNIK_DASK_SCHEDULER, без него — потоки процесса.",
)
_WORKERS = typer.Option(
    None, "--workers", min=1, help="Потоков процесса (по умолчанию NASTAVNIK_SOLVER_WORKERS)."
)


def _batch(
    what: str,
    name: str,
    objective: str,
    min_score: float | None,
    dask_scheduler: str | None,
    workers: int | None,
) -> None:
    """Run a municipality's or a region's batch as the command-line operator and print it."""
    from service.core.config import get_settings
    from service.core.db import Database
    from service.core.errors import Invalid, ServiceError
    from service.core.security import Actor
    from service.runs.executor import Solver
    from service.runs.region import run_region
    from service.runs.runs import RunOptions, run_matching

    if objective not in _OBJECTIVES:
        raise _fail(Invalid(f"--objective: {objective!r} — ожидалось coverage или score."))
    remote = ("tcp://", "tls://", "inproc://")
    if dask_scheduler not in (None, "local") and not str(dask_scheduler).startswith(remote):
        message = f"--dask-scheduler: {dask_scheduler!r} — ожидалось tcp://host:port или local."
        raise _fail(Invalid(message))
    settings = get_settings()
    options = RunOptions(
        objective=objective,
        min_score=settings.min_score if min_score is None else min_score,
        max_pairs=settings.pairs_per_run,
    )
    db = _database()
    assert isinstance(db, Database)
    solver = Solver(workers or settings.solver_workers, dask_scheduler or settings.dask_scheduler)
    try:
        if what == "region":
            made = run_region(db, solver, Actor.command_line(), options, name)
        else:
            made = run_matching(db, solver, Actor.command_line(), options, municipality=name)
    except ServiceError as exc:
        raise _fail(exc) from exc
    except OSError as exc:  # a Dask scheduler that does not answer
        raise _fail(exc) from exc
    finally:
        solver.close()
        db.dispose()
    where = "региону" if what == "region" else "муниципалитету"
    typer.echo(
        f"Подбор по {where} «{name}»: запуск № {made.run_id}; предложено пар — "
        f"{len(made.proposals)}, без пары — {len(made.unmatched)}, действующих пар сохранено — "
        f"{len(made.kept)}, без согласия — {made.without_consent}; {made.seconds:.1f} с."
    )


@runs_app.command("region")
def runs_region(
    region: str = typer.Argument(..., help="Регион (субъект РФ), как он указан у школ (--region)."),
    objective: str = _OBJECTIVE,
    min_score: float | None = _MIN_SCORE,
    dask_scheduler: str | None = _DASK,
    workers: int | None = _WORKERS,
) -> None:
    """Подобрать пары по всему региону: сначала в каждом муниципалитете, затем виртуальные пары
    между муниципалитетами; предложения увидят кураторы школ."""
    _batch("region", region, objective, min_score, dask_scheduler, workers)


@runs_app.command("municipality")
def runs_municipality(
    municipality: str = typer.Argument(..., help="Муниципалитет, как он указан у школ."),
    objective: str = _OBJECTIVE,
    min_score: float | None = _MIN_SCORE,
    dask_scheduler: str | None = _DASK,
    workers: int | None = _WORKERS,
) -> None:
    """Подобрать пары по всем школам муниципалитета (виртуальные пары между школами)."""
    _batch("municipality", municipality, objective, min_score, dask_scheduler, workers)


def register(app: typer.Typer) -> None:
    """Add the service commands to the root application."""
    app.command("demo")(demo)
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(users_app, name="users")
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(runs_app, name="runs")
