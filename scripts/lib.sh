# Shared helpers for scripts/*.sh: package installs, the Python virtualenv,
# building weir, and starting/stopping brokers this script owns.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WEIR_VENV:-$ROOT/target/venv}"
STARTED_PIDS=()
# Shell commands that stop what is not a child process (database servers).
STOP_COMMANDS=()

# Each line says how long its script had run, so a slow stage of a run (CI's
# included) can be found from its log alone.
log() { printf '\033[1m==> [%ss] %s\033[0m\n' "$SECONDS" "$*" >&2; }

# Installs Debian packages that are missing (as root, or through sudo).
ensure_packages() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Creates the virtualenv with the Python Kafka clients used by the tests.
ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating Python virtualenv in $VENV"
        python3 -m venv "$VENV"
    fi
    if ! "$VENV/bin/python" -c 'import kafka, confluent_kafka, aiokafka, prometheus_client, yaml, fastavro, cramjam, pyarrow, schemathesis, openapi_spec_validator, openapi_python_client' 2>/dev/null; then
        log "installing Python Kafka clients, the Prometheus text parser, fastavro, pyarrow and the OpenAPI tools"
        "$VENV/bin/pip" install -q --disable-pip-version-check \
            'kafka-python>=3,<4' 'confluent-kafka>=2.10' 'aiokafka>=0.12' 'prometheus-client>=0.20' 'pyyaml>=6' 'fastavro>=1.9' 'cramjam>=2.8' 'pyarrow>=14' \
            'schemathesis>=4.3,<5' 'openapi-spec-validator>=0.7' 'openapi-python-client>=0.25'
    fi
}

# Hadoop's client jars (3.3.4, as the pyspark 3.5.3 source package on PyPI
# ships them) in $HADOOP_JARS, and a JDK to run a Java source file against
# them: the tests read SequenceFiles with Hadoop's own reader.
ensure_hadoop_jars() {
    HADOOP_JARS="${CARGO_TARGET_DIR:-$ROOT/target}/hadoop-jars"
    command -v javac >/dev/null || ensure_packages default-jdk-headless
    [ -f "$HADOOP_JARS/hadoop-client-runtime-3.3.4.jar" ] && return 0
    log "fetching Hadoop's client jars (from the pyspark 3.5.3 source package)"
    local dl
    dl="$(mktemp -d)"
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$dl" 'pyspark==3.5.3'
    mkdir -p "$HADOOP_JARS"
    tar xzf "$dl"/pyspark-3.5.3.tar.gz --no-same-owner -C "$dl" --wildcards \
        '*/deps/jars/hadoop-client-api-3.3.4.jar' '*/deps/jars/hadoop-client-runtime-3.3.4.jar' \
        '*/deps/jars/commons-logging-1.1.3.jar' '*/deps/jars/slf4j-api-2.0.7.jar'
    mv "$dl"/pyspark-3.5.3/deps/jars/*.jar "$HADOOP_JARS/"
    rm -rf "$dl"
}

# Builds the weir binary (profile: debug unless WEIR_PROFILE=release).
build_weir() {
    local profile="${WEIR_PROFILE:-debug}"
    # librdkafka is built with OpenSSL (TLS and SCRAM to the brokers).
    ensure_packages build-essential pkg-config libssl-dev
    if [ "$profile" = release ]; then
        (cd "$ROOT" && cargo build --release -p worker --bin weir)
    else
        (cd "$ROOT" && cargo build -p worker --bin weir)
    fi
    # CI may keep cargo's target directory outside the checkout.
    WEIR="${CARGO_TARGET_DIR:-$ROOT/target}/$profile/weir"
}

# A port nothing listens on, below the kernel's range of ephemeral ports
# (free_port in scripts/tests/standalone_worker.py).
free_port() {
    PYTHONPATH="$ROOT/scripts/tests" python3 -c 'from standalone_worker import free_port; print(free_port())'
}

wait_port() {
    local port=$1 i
    for i in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on port $port" >&2
    return 1
}

# start_broker DATA_DIR PORT LOGFILE [--override k=v ...]: starts weir broker in the background.
start_broker() {
    local dir=$1 port=$2 logfile=$3
    shift 3
    "$WEIR" broker --override "log.dirs=$dir" \
        --override "listeners=PLAINTEXT://localhost:$port" "$@" >"$logfile" 2>&1 &
    BROKER_PID=$!
    STARTED_PIDS+=("$BROKER_PID")
    wait_port "$port"
}

# Stops a process this script started (SIGTERM, then SIGKILL after 10 s).
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# Stops what was started, newest first (clients before the broker they use).
cleanup_started() {
    local i
    for ((i = ${#STOP_COMMANDS[@]} - 1; i >= 0; i--)); do
        eval "${STOP_COMMANDS[$i]}" || true
    done
    for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${STARTED_PIDS[$i]}"
    done
}

# write_connect_files BOOTSTRAP OFFSETS REST SOURCE_FILE SOURCE_TOPIC_KEY SINK_FILE:
# writes Kafka Connect's three sample files as the tutorial edits them
# (connect-standalone.properties, connect-file-source.properties with
# <SOURCE_TOPIC_KEY>=log-test, connect-file-sink.properties) in the current
# directory; an empty BOOTSTRAP leaves bootstrap.servers out.
write_connect_files() {
    local bootstrap=$1 offsets=$2 rest=$3 source=$4 topic_key=$5 sink=$6
    {
        [ -n "$bootstrap" ] && echo "bootstrap.servers=$bootstrap"
        cat <<PROPS
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$offsets
offset.flush.interval.ms=10000
listeners=http://:$rest
PROPS
    } >connect-standalone.properties
    printf 'name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile=%s\n%s=log-test\n' \
        "$source" "$topic_key" >connect-file-source.properties
    printf 'name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile=%s\ntopics=log-test\n' \
        "$sink" >connect-file-sink.properties
}

# test_certs: a throwaway CA and a server certificate for 127.0.0.1 and
# localhost (made once per run); exports WEIR_TEST_DB_CA (the CA's PEM) and
# sets TEST_CERT_DIR (ca.pem, server.pem, server.key).
test_certs() {
    [ -n "${TEST_CERT_DIR:-}" ] && return 0
    ensure_packages openssl
    TEST_CERT_DIR=$(mktemp -d)
    chmod 755 "$TEST_CERT_DIR"
    STOP_COMMANDS+=("rm -rf $TEST_CERT_DIR")
    (
        cd "$TEST_CERT_DIR"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=weir test CA" \
            -keyout ca.key -out ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
            -extfile ext.cnf -out server.pem 2>/dev/null
        chmod 644 ca.pem server.pem server.key
    )
    export WEIR_TEST_DB_CA="$TEST_CERT_DIR/ca.pem"
}

# start_postgres: a throwaway PostgreSQL (Debian's packages, installed when
# missing) in a temporary directory on a free loopback port, run as the
# postgres user; exports WEIR_TEST_POSTGRES_URL and stops it on exit.
start_postgres() {
    ensure_packages postgresql postgresql-client
    local bin dir port
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    dir=$(mktemp -d)
    chown postgres: "$dir"
    port=$(free_port)
    su postgres -s /bin/sh -c "$bin/initdb -D $dir/data -U postgres --auth=trust -E UTF8 --no-sync >/dev/null"
    # TLS for clients that ask (sslmode=require / verify-full in the tests).
    test_certs
    install -o postgres -m 600 "$TEST_CERT_DIR/server.key" "$dir/server.key"
    install -o postgres -m 644 "$TEST_CERT_DIR/server.pem" "$dir/server.pem"
    printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$dir/server.pem" "$dir/server.key" \
        >>"$dir/data/postgresql.conf"
    su postgres -s /bin/sh -c "$bin/pg_ctl -D $dir/data -l $dir/log -w start -o '-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off'" >/dev/null
    PG_DIR=$dir PG_BIN=$bin
    STOP_COMMANDS+=("su postgres -s /bin/sh -c '$bin/pg_ctl -D $dir/data -m fast -w stop' >/dev/null; rm -rf $dir")
    export WEIR_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    PG_PORT=$port
}

# start_mariadb: the same for MariaDB; exports WEIR_TEST_MYSQL_URL.
start_mariadb() {
    ensure_packages mariadb-server mariadb-client
    local dir port i
    dir=$(mktemp -d)
    chown mysql: "$dir"
    port=$(free_port)
    mariadb-install-db --user=mysql --datadir="$dir/data" --auth-root-authentication-method=normal \
        --skip-test-db >/dev/null 2>&1
    test_certs
    /usr/sbin/mariadbd --user=mysql --datadir="$dir/data" --socket="$dir/sock" --port="$port" \
        --bind-address=127.0.0.1 --pid-file="$dir/pid" --log-error="$dir/err.log" --skip-name-resolve \
        --innodb-flush-log-at-trx-commit=0 --ssl-ca="$TEST_CERT_DIR/ca.pem" \
        --ssl-cert="$TEST_CERT_DIR/server.pem" --ssl-key="$TEST_CERT_DIR/server.key" >/dev/null 2>&1 &
    STARTED_PIDS+=($!)
    for i in $(seq 1 120); do
        mariadb-admin --socket="$dir/sock" -uroot ping >/dev/null 2>&1 && break
        sleep 0.25
    done
    mariadb --socket="$dir/sock" -uroot -e "CREATE DATABASE t; CREATE USER 'test'@'127.0.0.1' IDENTIFIED BY 'test'; GRANT ALL ON *.* TO 'test'@'127.0.0.1' WITH GRANT OPTION;"
    STOP_COMMANDS+=("mariadb-admin --socket=$dir/sock -uroot shutdown >/dev/null 2>&1; rm -rf $dir")
    export WEIR_TEST_MYSQL_URL="mysql://test:test@127.0.0.1:$port/t"
    MARIADB_SOCK="$dir/sock"
}
