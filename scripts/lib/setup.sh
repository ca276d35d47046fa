# Shared by scripts/test and scripts/demo: idempotent set-up steps for a fresh machine.

step() { printf '\n==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

apt_install() {
    step "apt-get install $*"
    if [ -z "${APT_UPDATED:-}" ]; then
        as_root apt-get update -qq && APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

setup_python() {
    step "Python environment (.venv)"
    local python=${PYTHON:-python3}
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "Python 3.11 or newer is needed (found $("$python" --version))" >&2; exit 1; }
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[test]"
}

setup_node_tools() {
    if ! command -v npm >/dev/null; then
        if [ -n "${CI:-}" ]; then apt_install nodejs npm; else
            echo "npm not found: the Playground and the manifest/card checks need Node.js 20+" >&2
            return 0
        fi
    fi
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
        step "npm ci (Agents Playground, manifest schemas, Adaptive Cards)"
        npm ci --no-audit --no-fund --loglevel=error
    fi
}

setup_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    if apt_install chromium; then return 0; fi
    echo "Debian's chromium is not installed and could not be: end-to-end tests will skip" >&2
}

# Voikko, the Finnish analyser the FAQ matcher uses for base forms and compound words; without it
# the bot falls back to stemming and says so at start-up.
setup_voikko() {
    voikko_loads && return 0
    if apt_install libvoikko1 voikko-fi && voikko_loads; then return 0; fi
    if [ -n "${CI:-}" ]; then
        echo "Voikko could not be installed, and CI must test the matcher with it" >&2
        exit 1
    fi
    echo "Voikko (Debian's libvoikko1 and voikko-fi) is not installed and could not be:" \
        "questions are matched with stemming only" >&2
}

voikko_loads() {
    .venv/bin/python -c 'import sys; from bot.faq.morphology import finnish_morphology
sys.exit(finnish_morphology() is None)' 2>/dev/null
}

# Prints a pytest marker expression that leaves PostgreSQL out when it cannot be reached
# (never on CI, where it must run).
setup_postgres() {
    local url=${TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test}
    if .venv/bin/python scripts/lib/pg_ready.py "$url"; then return 0; fi
    if [ -n "${CI:-}" ] && [ -d /etc/postgresql ]; then
        step "starting PostgreSQL"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
        for _ in $(seq 30); do
            .venv/bin/python scripts/lib/pg_ready.py "$url" && return 0
            sleep 1
        done
    fi
    if [ -n "${CI:-}" ]; then
        echo "PostgreSQL at $url is not reachable, and CI must test it" >&2
        exit 1
    fi
    echo "PostgreSQL at $url is not reachable: its tests are left out of this run" >&2
    echo "not postgres"
}

setup_prometheus() {
    # tests/test_prometheus_scrape.py scrapes the running bot with it; skipped where it is missing.
    command -v prometheus >/dev/null && return 0
    apt_install --no-install-recommends prometheus && return 0
    if [ -n "${CI:-}" ]; then
        echo "Debian's prometheus could not be installed (apt-get install prometheus)" >&2
        exit 1
    fi
    echo "Debian's prometheus is not installed: the scrape test is skipped" >&2
}

setup_faketime() {
    command -v faketime >/dev/null && return 0
    apt_install faketime && return 0
    echo "Debian's faketime is not installed and could not be (apt-get install faketime)" >&2
    exit 1
}
