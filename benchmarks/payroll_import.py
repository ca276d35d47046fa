"""Payroll import at the city's scale: 6,400 employees × 24 periods into PostgreSQL and SQLite.

Each database is fresh (a SQLite file, or a PostgreSQL schema dropped afterwards) and holds
6,400 employees, each with a delivered Free Choice and a 24-instalment deduction plan. The payroll
file has one row per employee and period (153,600 rows; a few missed months and wrong amounts).
Measured, each in a child process of its own: time, and peak RSS above the RSS at its start
(VmHWM, reset when the child is ready):

- the import: read and check the file, import_payroll, commit (every plan is paid off by it);
- a re-import of the same file, which changes nothing;
- the two ICT reports over all plans (reconciliation, leavers);
- a monthly file (6,400 rows, the last period) into a database that holds the 23 months before.

tracemalloc slows Python down, so its peak comes from one more import into another fresh database.

    /work/venv/bin/python benchmarks/payroll_import.py [--quick] [--employees N] [--periods N]
        [--databases sqlite,postgresql] [--no-tracemalloc] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.choices.cost import cost_breakdown
from bot.choices.models import ChoiceOption, ChoiceStatus, PhoneChoice
from bot.db import migrate
from bot.db.engine import create_engine, create_session_factory
from bot.deductions.ledger import add_months
from bot.deductions.models import DeductionPlan
from bot.deductions.payroll.parse import parse_payroll_file
from bot.deductions.payroll.post import import_payroll
from bot.deductions.payroll.report import leavers_report, reconciliation_report
from bot.directory.models import Employee

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgresql")
FIRST_MONTH = date(2025, 1, 1)
BASE_PRICE_CENTS = 19_900
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
BATCH = 5_000
MISSED_EVERY = 97  # every 97th employee has nothing deducted in one month
WRONG_EVERY = 101  # every 101st has one amount 1,00 € too large


@dataclass(frozen=True)
class Files:
    whole: Path  # every period
    history: Path  # every period but the last
    month: Path  # the last period only


@dataclass(frozen=True)
class Database:
    kind: str
    url: str
    schema: str | None

    def engine(self) -> AsyncEngine:
        options: dict[str, Any] = {}
        if self.schema:
            options["connect_args"] = {"server_settings": {"search_path": self.schema}}
        return create_engine(self.url, **options)

    def args(self) -> list[str]:
        return ["--url", self.url, *(["--schema", self.schema] if self.schema else [])]


# --- the data --------------------------------------------------------------------------------


def employee_number(index: int) -> str:
    return str(500_000 + index)


def price_cents(index: int) -> int:
    """Catalog-like prices from 329 € to 1 229 €, some with cents, so remainders occur."""
    return 32_900 + (index % 10) * 10_000 + (index % 7) * 7


def schedule(index: int, periods: int) -> list[int]:
    cost = cost_breakdown(
        price_cents=price_cents(index), base_price_cents=BASE_PRICE_CENTS, instalments=periods
    )
    return cost.schedule()


async def fill(database: Database, employees: int, periods: int) -> None:
    """Employees, delivered choices and plans, inserted in bulk."""
    engine = database.engine()
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for start in range(0, employees, BATCH):
                indexes = range(start, min(start + BATCH, employees))
                await session.execute(
                    insert(Employee),
                    [
                        {
                            "aad_object_id": f"bench-{index:06d}",
                            "display_name": f"Työntekijä {index}",
                            "employee_number": employee_number(index),
                            "account_enabled": True,
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                        for index in indexes
                    ],
                )
                await session.execute(
                    insert(PhoneChoice),
                    [
                        {
                            "id": index + 1,
                            "aad_object_id": f"bench-{index:06d}",
                            "option": ChoiceOption.FREE_CHOICE.value,
                            "status": ChoiceStatus.DELIVERED.value,
                            "model_name": f"Esimerkkifoni {index % 10}",
                            "created_at": NOW,
                            "updated_at": NOW,
                        }
                        for index in indexes
                    ],
                )
                plans = []
                for index in indexes:
                    instalments = schedule(index, periods)
                    plans.append(
                        {
                            "id": index + 1,
                            "aad_object_id": f"bench-{index:06d}",
                            "choice_id": index + 1,
                            "source": "choice",
                            "model_name": f"Esimerkkifoni {index % 10}",
                            "total_cents": sum(instalments),
                            "instalment_count": periods,
                            "first_instalment_cents": instalments[0],
                            "instalment_cents": instalments[-1],
                            "first_month": FIRST_MONTH,
                            "created_at": NOW,
                        }
                    )
                await session.execute(insert(DeductionPlan), plans)
    finally:
        await engine.dispose()


def write_payroll_file(
    path: Path, employees: int, periods: int, numbers: range | None = None
) -> int:
    """The file payroll would send: one block per period, rows in employee order."""
    schedules = [schedule(index, periods) for index in range(employees)]
    rows = 0
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        stream.write("henkilonumero;palkkakausi;summa\r\n")
        for number in numbers or range(periods):
            period = add_months(FIRST_MONTH, number)
            for index, instalments in enumerate(schedules):
                amount = instalments[number]
                if index % MISSED_EVERY == 0 and number == periods // 2:
                    amount = 0
                elif index % WRONG_EVERY == 0 and number == 5:
                    amount += 100
                euros, cents = divmod(amount, 100)
                stream.write(f"{employee_number(index)};{period:%Y-%m};{euros},{cents:02d}\r\n")
                rows += 1
    return rows


@contextlib.asynccontextmanager
async def fresh_database(kind: str, workdir: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        database = Database(kind, f"sqlite+aiosqlite:///{workdir / uuid.uuid4().hex}.sqlite3", None)
    else:
        database = Database(kind, POSTGRES_URL, f"bench_{uuid.uuid4().hex[:12]}")
        await admin(f'CREATE SCHEMA "{database.schema}"')
    try:
        engine = database.engine()
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        yield database
    finally:
        if database.schema:
            await admin(f'DROP SCHEMA IF EXISTS "{database.schema}" CASCADE')


async def admin(statement: str) -> None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


# --- one measured run, in a child process --------------------------------------------------


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, from /proc/self/status (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak_rss() -> None:
    """Start VmHWM again from the current RSS (Linux 4.0+).

    ru_maxrss is no use here: a child process inherits its parent's peak at fork, and the parent
    holds the whole benchmark's data.
    """
    Path("/proc/self/clear_refs").write_text("5")


async def child(args: argparse.Namespace) -> dict[str, Any]:
    database = Database("", args.url, args.schema)
    engine = database.engine()
    async with engine.connect() as connection:  # connect before the baseline
        await connection.execute(text("SELECT 1"))
    reset_peak_rss()
    baseline = memory_mb("VmRSS")
    if args.traced:
        tracemalloc.start()
    result: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        if args.action == "report":
            async with create_session_factory(engine)() as session:
                lines = await reconciliation_report(session=session)
                result["reconciliation_s"] = time.perf_counter() - started
                leavers = await leavers_report(session=session)
            result |= {"discrepancies": len(lines), "leavers": len(leavers)}
        else:
            payroll_file = parse_payroll_file(Path(args.file))
            parsed = time.perf_counter()
            async with create_session_factory(engine)() as session, session.begin():
                imported = await import_payroll(
                    session=session,
                    payroll_file=payroll_file,
                    file_name=Path(args.file).name,
                    now=NOW,
                )
            result |= {
                "parse_s": parsed - started,
                "database_s": time.perf_counter() - parsed,
                "rows": imported.rows,
                "added": imported.added,
                "corrected": imported.corrected,
                "unchanged": imported.unchanged,
                "paid_off": len(imported.paid_off_plan_ids),
                "discrepancies": len(imported.reconciliation),
            }
        result["total_s"] = time.perf_counter() - started
        if args.traced:
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        await engine.dispose()
    peak = memory_mb("VmHWM")
    result |= {"rss_before_mb": baseline, "peak_rss_mb": peak, "rss_delta_mb": peak - baseline}
    return result


def run_child(action: str, database: Database, file: Path, *, traced: bool = False) -> Any:
    command = [sys.executable, __file__, "--child", action, *database.args(), "--file", str(file)]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{action} on {database.kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark ---------------------------------------------------------------------


async def import_in_process(database: Database, file: Path) -> None:
    engine = database.engine()
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await import_payroll(
                session=session, payroll_file=parse_payroll_file(file), file_name=file.name, now=NOW
            )
    finally:
        await engine.dispose()


async def measure(kind: str, options: argparse.Namespace, workdir: Path, files: Files) -> Any:
    file = files.whole
    result: dict[str, Any] = {"database": kind}
    async with fresh_database(kind, workdir) as database:
        started = time.perf_counter()
        await fill(database, options.employees, options.periods)
        result["setup_s"] = time.perf_counter() - started
        result["import"] = await asyncio.to_thread(run_child, "import", database, file)
        result["reimport"] = await asyncio.to_thread(run_child, "import", database, file)
        result["reports"] = await asyncio.to_thread(run_child, "report", database, file)
    async with fresh_database(kind, workdir) as database:
        await fill(database, options.employees, options.periods)
        await import_in_process(database, files.history)
        result["monthly"] = await asyncio.to_thread(run_child, "import", database, files.month)
    if options.tracemalloc:
        async with fresh_database(kind, workdir) as database:
            await fill(database, options.employees, options.periods)
            traced = await asyncio.to_thread(run_child, "import", database, file, traced=True)
            result["import_traced"] = traced
    return result


def table(results: list[dict[str, Any]]) -> Iterator[str]:
    header = (
        f"{'database':<11}{'rows':>8}{'import s':>10}{'parse s':>9}{'db s':>7}{'peak Δ MB':>11}"
        f"{'tracemalloc MB':>16}{'re-import s':>13}{'peak Δ MB':>11}{'reports s':>11}"
        f"{'monthly s':>11}"
    )
    yield header
    yield "-" * len(header)
    for item in results:
        first, again, reports = item["import"], item["reimport"], item["reports"]
        traced = item.get("import_traced", {}).get("tracemalloc_peak_mb")
        yield (
            f"{item['database']:<11}{first['rows']:>8}{first['total_s']:>10.2f}"
            f"{first['parse_s']:>9.2f}{first['database_s']:>7.2f}{first['rss_delta_mb']:>11.1f}"
            f"{'-' if traced is None else f'{traced:.1f}':>16}"
            f"{again['total_s']:>13.2f}{again['rss_delta_mb']:>11.1f}{reports['total_s']:>11.2f}"
            f"{item['monthly']['total_s']:>11.2f}"
        )
    for item in results:
        first, again = item["import"], item["reimport"]
        yield (
            f"{item['database']}: import {first['added']} new, {first['paid_off']} paid off, "
            f"{first['discrepancies']} discrepancies; re-import {again['added']} new, "
            f"{again['corrected']} corrected, {again['unchanged']} unchanged; "
            f"reports {item['reports']['discrepancies']} discrepancies, "
            f"{item['reports']['leavers']} leavers; monthly file "
            f"{item['monthly']['rows']} rows, {item['monthly']['added']} new"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="640 employees instead of 6,400")
    parser.add_argument("--employees", type=int)
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--databases", default=",".join(DATABASES))
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--child", choices=("import", "report"), dest="action", help="internal")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.employees is None:
        args.employees = 640 if args.quick else 6_400
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.action:
        print(json.dumps(asyncio.run(child(args))))
        return 0
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    with tempfile.TemporaryDirectory(prefix="payroll-bench-") as directory:
        workdir = Path(directory)
        files = Files(workdir / "palkat.csv", workdir / "historia.csv", workdir / "kuukausi.csv")
        started = time.perf_counter()
        rows = write_payroll_file(files.whole, args.employees, args.periods)
        last = args.periods - 1
        write_payroll_file(files.history, args.employees, args.periods, range(last))
        write_payroll_file(files.month, args.employees, args.periods, range(last, last + 1))
        print(
            f"wrote {rows} rows ({files.whole.stat().st_size / 2**20:.1f} MiB) "
            f"in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        results = []
        for kind in kinds:
            print(f"{kind}: measuring…", file=sys.stderr)
            results.append(asyncio.run(measure(kind, args, workdir, files)))
    report = {
        "employees": args.employees,
        "periods": args.periods,
        "rows": rows,
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print()
    for line in table(results):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
