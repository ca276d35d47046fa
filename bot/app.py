"""The composition root: builds every component from Settings and wires the aiohttp app."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from botbuilder.dialogs import Dialog
from botframework.connector.auth import MicrosoftAppCredentials
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.adapters.botframework.adapter import BotHttpAdapter
from bot.adapters.botframework.auth import ChannelTokenValidator, OpenIdKeyCache
from bot.adapters.botframework.authentication import ChannelAuthentication
from bot.adapters.botframework.connector import BotConnectorClient
from bot.adapters.botframework.tokens import (
    AccessTokenProvider,
    CredentialTokenProvider,
    NoTokenProvider,
)
from bot.adapters.conversation_state import TurnConversationState
from bot.adapters.entra.credentials import bot_connector_credential, credential_kind
from bot.adapters.entra.sso import TabTokenValidator
from bot.adapters.graph.client import GraphDirectory
from bot.adapters.graph.directory_sync import build_directory_sync, graph_directory
from bot.adapters.state_storage import SqlStorage
from bot.announcements.receipts import ReceiptDesk
from bot.background import (
    BackgroundJobs,
    CampaignPlanner,
    build_dispatcher,
    build_helpdesk,
    working_hours,
)
from bot.backoff import RetryPolicy
from bot.choices.service import ChoicePolicy, PhoneChoices
from bot.clock import Clock, system_clock
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory, lone_statements
from bot.deductions.service import DeductionReader
from bot.dialogs.actions import Verb
from bot.dialogs.admin.area import AdminArea
from bot.dialogs.admin.desk import AdminDesk
from bot.dialogs.announcements.receipt import AnnouncementReceipts
from bot.dialogs.areas import AREA_VERBS, OPENINGS, check_partition
from bot.dialogs.deductions.dialog import MyDeductionsDialog
from bot.dialogs.helpdesk.dialog import HelpdeskDialog, TicketButtons
from bot.dialogs.menu.dialog import MainMenuDialog, MenuInPlace
from bot.dialogs.opening import Router
from bot.dialogs.phone.dialog import ChoosePhoneDialog
from bot.dialogs.privacy.dialog import COPY_PATH, MyDataDialog
from bot.dialogs.questions.dialog import QuestionsDialog
from bot.dialogs.questions.feedback import FaqFeedback
from bot.dialogs.rollout.dialog import MyTurnDialog
from bot.dialogs.rollout.remind_later import RemindLater
from bot.faq.matcher import default_matcher
from bot.faq.service import FaqDesk
from bot.faq.topics import faq_content
from bot.handler import PuhelinbottiHandler
from bot.i18n import load_catalogs, texts
from bot.ict.console import IctConsole
from bot.ict.overview import ProgramOverview
from bot.ict.uploads import FileUploads
from bot.privacy.policy import RetentionPolicy
from bot.privacy.purge import Purge
from bot.privacy.service import PrivacyDesk
from bot.rollout.campaigns import LaterReminders
from bot.rollout.service import TurnReader
from bot.serving import SHUTDOWN, add_shutdown
from bot.settings import GRAPH_V1, Settings
from bot.tabs.access import TabAccess
from bot.tabs.ict import IctTab
from bot.tabs.uploads import UploadPages
from bot.tabs.web import Gate, static_file
from bot.telemetry.providers import Telemetry, start_telemetry
from bot.telemetry.readings import GaugeSampler
from bot.telemetry.turns import TurnObserver
from bot.telemetry.web import (
    TELEMETRY,
    correlate_requests,
    observe_requests,
    open_metrics_listener,
    prometheus_metrics,
)
from bot.turn_errors import make_turn_error_handler
from bot.turn_start import TurnStarter

log = logging.getLogger(__name__)


@dataclass
class Components:
    """What the running app is made of; tests reach in here instead of patching globals."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: aiohttp.ClientSession
    adapter: BotHttpAdapter
    handler: PuhelinbottiHandler
    storage: SqlStorage
    expected_revision: str | None
    jobs: BackgroundJobs
    graph: GraphDirectory | None
    tokens: AccessTokenProvider
    ict_tab: IctTab
    uploads: UploadPages
    privacy: PrivacyDesk
    telemetry: Telemetry
    gauges: GaugeSampler


COMPONENTS = web.AppKey("components", Components)


def create_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    token_provider: AccessTokenProvider | None = None,
    clock: Clock = system_clock,
    freeze_after_start: bool = False,
    telemetry: Telemetry | None = None,
) -> web.Application:
    """Build the web app; components are created on start-up inside the running loop.

    `telemetry` is the serving process's; without it the app builds its own from the settings.
    Either way it stops with the app.

    `freeze_after_start` is for a serving process: what start-up built (the imports, the FAQ
    matcher's ~57 MB) is kept out of every later full garbage collection, each of which would
    otherwise walk it all (70–80 ms) in the middle of someone's turn.
    """
    app = web.Application(client_max_size=1024 * 1024)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        components = await build_components(
            settings,
            engine=engine,
            token_provider=token_provider,
            clock=clock,
            telemetry=telemetry,
        )
        app[COMPONENTS] = components
        app[TELEMETRY] = components.telemetry
        if freeze_after_start:
            gc.collect()
            gc.freeze()
        _announce(settings)
        components.telemetry.start(components.gauges.sample, settings.metrics_sample_seconds)
        metrics = await open_metrics_listener(
            components.telemetry, settings.metrics_host, settings.metrics_port
        )
        if settings.background_jobs:
            components.jobs.start()
            app[SHUTDOWN].stop_background = components.jobs.stop
        yield
        await components.jobs.stop()
        if metrics is not None:
            await metrics.cleanup()
        await components.telemetry.shutdown()
        if components.graph is not None:
            await components.graph.aclose()
        if token_provider is None:
            await components.tokens.aclose()
        await components.http.close()
        if engine is None:
            await components.engine.dispose()

    app.cleanup_ctx.append(lifecycle)
    app.middlewares.append(correlate_requests)
    app.middlewares.append(observe_requests)
    add_shutdown(app)
    app.router.add_post("/api/messages", _messages)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get(COPY_PATH + "{token}", _own_copy, allow_head=False)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", prometheus_metrics)
    app.router.add_get("/tabs/ict", _tab(IctTab.shell))
    app.router.add_get("/tabs/ict/configure", _tab(IctTab.configure))
    app.router.add_get("/tabs/ict/start", _tab(IctTab.start))
    app.router.add_get("/tabs/ict/progress", _tab(IctTab.progress))
    app.router.add_get("/tabs/ict/campaigns", _tab(IctTab.campaigns))
    app.router.add_get("/tabs/ict/helpdesk", _tab(IctTab.helpdesk))
    app.router.add_get("/tabs/ict/units/{code}/waiting", _tab(IctTab.waiting))
    app.router.add_get("/tabs/ict/units/{code}/waiting.csv", _tab(IctTab.waiting_csv))
    uploads = "/tabs/ict/uploads/{kind:payroll|catalog}"
    app.router.add_get(uploads, _uploads(UploadPages.form))
    app.router.add_post(uploads, _uploads(UploadPages.check))
    app.router.add_post(uploads + "/{upload_id}/confirm", _uploads(UploadPages.confirm))
    app.router.add_post(uploads + "/{upload_id}/discard", _uploads(UploadPages.discard))
    app.router.add_get("/tabs/static/{name}", static_file)
    return app


def _tab(
    handler: Callable[[IctTab, web.Request], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A route to a handler of ICT's tab, which start-up builds with the other components."""

    async def handle(request: web.Request) -> web.Response:
        return await handler(request.app[COMPONENTS].ict_tab, request)

    return handle


def _uploads(
    handler: Callable[[UploadPages, web.Request], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A route to a handler of the tab's uploads."""

    async def handle(request: web.Request) -> web.Response:
        return await handler(request.app[COMPONENTS].uploads, request)

    return handle


async def build_components(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    token_provider: AccessTokenProvider | None = None,
    clock: Clock = system_clock,
    telemetry: Telemetry | None = None,
) -> Components:
    check_partition(AREA_VERBS)  # before anything opens: a verb without an area stops here
    telemetry = telemetry or start_telemetry(settings)
    engine = engine or create_engine(settings.database_url)
    telemetry.trace_database(engine)
    sessions = create_session_factory(engine)
    instruments = telemetry.instruments
    http = aiohttp.ClientSession()
    storage = SqlStorage(sessions, clock)
    tokens = token_provider or _token_provider(settings)
    graph = _graph(settings, telemetry)
    dispatcher = build_dispatcher(
        settings,
        sessions,
        http,
        tokens,
        clock=clock,
        installer=graph,
        engine=engine,
        telemetry=telemetry,
    )
    connector = BotConnectorClient(
        http,
        tokens,
        policy=RetryPolicy(max_attempts=settings.send_max_attempts),
        timeout_seconds=settings.send_timeout_seconds,
        instruments=instruments,
        tracer=telemetry.tracer,
    )
    helpdesk = build_helpdesk(settings, sessions, connector, clock=clock, installer=graph)
    jobs = BackgroundJobs(
        dispatcher=dispatcher,
        planner=CampaignPlanner(
            sessions, dispatcher, clock=clock, reminder_days=settings.reminder_days_before_close
        ),
        planner_interval=settings.planner_interval_seconds,
        directory=build_directory_sync(settings, sessions, clock=clock, source=graph)
        if graph
        else None,
        directory_interval=settings.directory_sync_interval_minutes * 60,
        relay=helpdesk.relay,
        relay_interval=settings.helpdesk_relay_interval_seconds,
        retention=Purge(sessions, RetentionPolicy.from_settings(settings)),
        clock=clock,
        telemetry=telemetry,
    )
    conversation_state = TurnConversationState(storage)
    adapter = BotHttpAdapter(
        _authentication(settings, http),
        connector,
        tenant_id=settings.tenant_id,
        max_concurrent_turns=settings.max_concurrent_turns,
    )
    adapter.on_turn_error = make_turn_error_handler(conversation_state)
    choices = PhoneChoices(
        sessions,
        ChoicePolicy(
            instalments=settings.instalment_rule,
            first_deduction_delay_months=settings.first_deduction_delay_months,
        ),
        clock,
        reads=create_session_factory(lone_statements(engine)),
    )
    load_catalogs()
    # Building the matcher loads a lemma dictionary (about 2 s): off the event loop, once.
    matcher = await asyncio.to_thread(default_matcher)
    if matcher.morphology is not None:
        log.info("questions: Finnish base forms and compound words by %s", matcher.morphology.name)
    faq = FaqDesk(sessions, matcher, faq_content(), clock, instruments)
    privacy = PrivacyDesk(sessions, RetentionPolicy.from_settings(settings), clock)
    area_dialogs: dict[Verb, Dialog] = {
        Verb.CHOOSE_PHONE: ChoosePhoneDialog(choices, settings.webshop_url),
        Verb.MY_DEDUCTIONS: MyDeductionsDialog(DeductionReader(sessions)),
        Verb.MY_TURN: MyTurnDialog(TurnReader(sessions, clock)),
        Verb.QUESTIONS: QuestionsDialog(faq),
        Verb.HELPDESK: HelpdeskDialog(helpdesk),
        Verb.MY_DATA: MyDataDialog(
            privacy,
            settings.public_base_url,
            settings.privacy_notice_url,
        ),
    }
    console = IctConsole(sessions, clock, wake_sender=dispatcher.wake)
    admin = AdminArea(AdminDesk(console, settings.ict_admins))
    handler = PuhelinbottiHandler(
        sessions=sessions,
        conversation_state=conversation_state,
        turn_starter=TurnStarter(engine, sessions, clock),
        main_dialog=MainMenuDialog(),
        areas=area_dialogs,
        router=Router(OPENINGS),
        default_language=settings.default_language,
        instalments=settings.instalments,
        privacy_notice_url=settings.privacy_notice_url,
        privacy=privacy,
        clock=clock,
        faq=faq,
        helpdesk=helpdesk,
        outright=[RemindLater(LaterReminders(sessions, clock, working_hours(settings))), admin],
        in_place=[
            MenuInPlace(),
            FaqFeedback(faq),
            TicketButtons(helpdesk),
            admin,
            AnnouncementReceipts(ReceiptDesk(sessions, clock)),
        ],
        observer=TurnObserver(telemetry),
    )
    gate = Gate(_tab_access(settings, http, clock))
    return Components(
        settings=settings,
        engine=engine,
        sessions=sessions,
        http=http,
        adapter=adapter,
        handler=handler,
        storage=storage,
        expected_revision=migrate.head_revision(),
        jobs=jobs,
        graph=graph,
        tokens=tokens,
        ict_tab=IctTab(ProgramOverview(sessions, clock), gate, faq_content()),
        uploads=UploadPages(FileUploads(sessions, clock), gate),
        privacy=privacy,
        telemetry=telemetry,
        gauges=GaugeSampler(sessions, clock, instruments.readings),
    )


def _graph(settings: Settings, telemetry: Telemetry) -> GraphDirectory | None:
    """Graph when it can answer: with the app's credentials, or at a local fake's address."""
    has_credentials = credential_kind(settings) is not None
    if not has_credentials and settings.graph_base_url == GRAPH_V1:
        log.warning("no Graph credentials: directory sync and app installation are off")
        return None
    try:
        return graph_directory(settings, telemetry.tracer)
    except ValueError as error:
        log.warning("%s: directory sync and app installation are off", error)
        return None


def _authentication(settings: Settings, http: aiohttp.ClientSession) -> ChannelAuthentication:
    validator = None
    if settings.auth_enabled:
        validator = ChannelTokenValidator(
            app_id=settings.app_id,
            issuer=settings.token_issuer,
            keys=OpenIdKeyCache(settings.openid_metadata_url, http),
        )
    credentials = MicrosoftAppCredentials(
        settings.app_id or None,
        settings.app_password.get_secret_value() or None,
        settings.app_tenant_id or None,
        settings.connector_oauth_scope,
    )
    return ChannelAuthentication(
        validator=validator, credentials=credentials, oauth_scope=settings.connector_oauth_scope
    )


def _tab_access(settings: Settings, http: aiohttp.ClientSession, clock: Clock) -> TabAccess:
    """Teams sign-in when authentication is on; the local user only when it is off.

    Authentication on without the city's tenant signs nobody in: the tab fails closed.
    """
    validator = None
    if settings.auth_enabled:
        if settings.tenant_id:
            validator = TabTokenValidator(
                tenant_id=settings.tenant_id,
                audiences=(settings.tab_audience, settings.app_id),
                keys=OpenIdKeyCache(settings.entra_metadata_url, http),
                clock=clock,
            )
        else:
            log.warning("tabs: no MicrosoftAppTenantId or TEAMS_TENANT_ID, so nobody can sign in")
    return TabAccess(
        validator=validator,
        local_user_id="" if settings.auth_enabled else settings.tab_local_user_id,
        ict_admins=settings.ict_admins,
        payroll_admins=settings.payroll_admins,
    )


def _token_provider(settings: Settings) -> AccessTokenProvider:
    """The bot's own tokens for the Bot Connector: a secret, a certificate or a managed
    identity, as the settings say."""
    if not settings.auth_enabled:
        return NoTokenProvider()
    return CredentialTokenProvider(
        bot_connector_credential(settings), settings.connector_oauth_scope
    )


def _announce(settings: Settings) -> None:
    if settings.auth_enabled:
        log.info(
            "authentication ON for app id %s, proven by its %s",
            settings.app_id,
            credential_kind(settings),
        )
    else:
        log.warning(
            "authentication OFF: no MicrosoftAppId is set, so /api/messages accepts unsigned "
            "requests. Fine for the Agents Playground on this machine; never expose it."
        )
    if settings.tenant_id:
        log.info("accepting activities from tenant %s only", settings.tenant_id)
    else:
        log.warning(
            "no MicrosoftAppTenantId or TEAMS_TENANT_ID: activities from any tenant are accepted;"
            " production must set the city's tenant"
        )


async def _messages(request: web.Request) -> web.Response:
    components = request.app[COMPONENTS]
    return await components.adapter.handle(request, components.handler)


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _own_copy(request: web.Request) -> web.Response:
    """A person's own copy behind the one-time, short-lived link from their chat; logged."""
    components = request.app[COMPONENTS]
    copy = await components.privacy.download(request.match_info["token"])
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if copy is None:
        words = [texts(language)("privacy.link.expired") for language in ("fi", "en", "sv")]
        return web.Response(status=404, text="\n\n".join(words) + "\n", headers=headers)
    body = json.dumps(copy.as_json(), ensure_ascii=False, indent=2)
    file_name = texts("fi")("privacy.link.file_name")
    headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return web.Response(body=body.encode(), content_type="application/json", headers=headers)


async def _readyz(request: web.Request) -> web.Response:
    """Ready when the database answers and its schema is at the code's migration head, and
    not once a stop has begun."""
    if request.app[SHUTDOWN].stopping:
        return web.json_response({"status": "stopping"}, status=503)
    components = request.app[COMPONENTS]
    try:
        async with components.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await migrate.current_revision(components.engine)
    except Exception as error:
        log.warning("readiness check failed: %s", error)
        return web.json_response({"status": "database unreachable"}, status=503)
    if current != components.expected_revision:
        return web.json_response(
            {
                "status": "migrations pending",
                "current": current,
                "expected": components.expected_revision,
            },
            status=503,
        )
    return web.json_response({"status": "ready", "revision": current})
