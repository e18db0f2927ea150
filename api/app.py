"""The composition root: builds the FastAPI app from settings, wiring every domain's routers and pages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

import api.tables  # noqa: F401  (registers every table)
from api.auditing import AuditorReadLogMiddleware
from api.database import WriteIntentMiddleware, create_db_engine, create_session_factory
from api.docs import install_api_docs
from api.jobs.scheduler import build_scheduler
from api.logs import configure_logging
from api.media import media_store
from api.metrics import install_metrics
from api.openapi_problems import install_problem_docs
from api.policies import order_policy
from api.problems import RequestIdMiddleware, install_problem_handlers
from api.request_guards import BodyLimitMiddleware, NoStoreMiddleware, NulRefusalMiddleware
from api.routers import (
    accounts,
    audit,
    auth,
    catalog,
    community,
    governance,
    health,
    ledger,
    orders,
    payouts,
    plans,
    reconciliation,
    refund_requests,
    reports,
    training,
    users,
)
from api.settings import Settings, get_settings
from api.wiring import connect_domains
from frontend.web import install_frontend

API_ROUTERS = (
    health.router,
    auth.router,
    accounts.router,
    users.router,
    catalog.router,
    orders.router,
    refund_requests.router,
    ledger.router,
    training.router,
    payouts.router,
    reconciliation.router,
    reports.router,
    governance.router,
    audit.router,
    plans.router,
    community.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    connect_domains()
    configure_logging(settings)
    engine = create_db_engine(settings.database_url, pool_size=settings.db_pool_size)

    session_factory = create_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # With SQLite (one machine) the jobs run here; in production a `hezuo worker` runs them.
        scheduler = (
            build_scheduler(settings, factory=session_factory, engine=engine)
            if settings.runs_jobs_in_process
            else None
        )
        if scheduler is not None:
            scheduler.start()
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        engine.dispose()

    app = FastAPI(
        title="Hezuo 合作",
        version="0.1.0",
        summary="Cooperative marketplace and double-entry ledger",
        lifespan=lifespan,
        docs_url=None,  # served by install_api_docs from our own files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.order_policy = order_policy(settings)  # a bad orders setting fails at start
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.media_store = media_store(settings)
    install_problem_handlers(app)
    install_api_docs(app)
    app.add_middleware(AuditorReadLogMiddleware)  # inside WriteIntent: logs after the response
    app.add_middleware(WriteIntentMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(NulRefusalMiddleware)
    app.add_middleware(NoStoreMiddleware)
    app.add_middleware(RequestIdMiddleware)
    # HTML, CSS and JSON compressed for slow phones (images and small answers are left alone).
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    for router in API_ROUTERS:
        app.include_router(router)
    install_metrics(app)
    install_frontend(app)
    install_problem_docs(app)
    return app
