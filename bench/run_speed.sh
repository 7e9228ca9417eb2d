#!/usr/bin/env bash
# run_speed.sh - the speed benchmark behind bench/RESULTS.md (`make bench`,
# `make bench-quick`).
#
# One run, on one machine, one thread per engine:
#   1. inputs: the first DOCS Wikipedia paragraphs (0: all 1.2M) as JSONL for
#      bin/index and as TSV for the peers; the query files by type
#      (bench/speed_prep.c);
#   2. indexing: bin/index, then each available peer (Lucene 8, Xapian 1.4,
#      SQLite FTS5) under /usr/bin/time -v: wall time, CPU time, peak
#      resident memory; index size on disk and postings counts;
#   3. query latency: bench_search (this engine) and each peer's driver over
#      the same query files, top K, after a warm-up, each as a pass server
#      (--serve); their timed passes alternate type by type (ROUNDS rounds),
#      all on the one CPU where this engine ran a calibration pass fastest,
#      and each engine's passes are pooled;
#   4. the hot loop: bench_codec over the block codec and the query terms'
#      posting lists of this engine's index;
#   5. a Markdown section appended to $RESULTS (created with a short header
#      if missing): figures, ratios of each peer to this engine, machine,
#      load, commit, command.
#
# Environment (the Makefile sets most of it):
#   MODE        quick | full (a label; the sizes below decide)
#   DOCS        paragraphs to index (0 = all)
#   NQ, NTREC   queries per game type / TREC queries (0 = all)
#   FTS5_MAX    at most this many queries per type for FTS5 (0 = all): it
#               scores every match, so on the full corpus a union takes a
#               quarter of a second; this engine is also timed on the same
#               subset, and FTS5's ratios are taken against that
#   LUCENE_WARMUP, LUCENE_WARMUP_MAX  least and most seconds of JIT warm-up
#               before Lucene is measured (it stops in between once a pass
#               over all queries no longer gets faster)
#   ROUNDS      rounds of timed passes (default 5)
#   CODEC_MS    minimum milliseconds per codec measurement
#   REUSE_INDEX=1  keep indexes (and their indexing figures) from an
#               earlier run in $OUT instead of rebuilding them
#   BINDIR, TOOLDIR, CORPUS, DATA, OUT, RESULTS, LUCENE_CP, COMMAND, K
set -uo pipefail

MODE=${MODE:-quick}
DOCS=${DOCS:-100000}
NQ=${NQ:-50}
NTREC=${NTREC:-200}
FTS5_MAX=${FTS5_MAX:-0}
LUCENE_WARMUP=${LUCENE_WARMUP:-20}
LUCENE_WARMUP_MAX=${LUCENE_WARMUP_MAX:-30}
CODEC_MS=${CODEC_MS:-10}
REUSE_INDEX=${REUSE_INDEX:-0}
K=${K:-10}
BINDIR=${BINDIR:-bin}
TOOLDIR=${TOOLDIR:-build/bench}
CORPUS=${CORPUS:-bench/out/enwiki-paragraphs.jsonl}
DATA=${DATA:-../shared/data}
OUT=${OUT:-bench/out/speed-$MODE}
RESULTS=${RESULTS:-$OUT/RESULTS.md}
LUCENE_CP=${LUCENE_CP:-}
COMMAND=${COMMAND:-bench/run_speed.sh}
TYPES=(union intersection phrase mixed negated trec)

say() { echo "== $*" >&2; }
die() {
    echo "run_speed: $*" >&2
    exit 1
}

mkdir -p "$OUT/q" || die "cannot create $OUT"
START_TIME=$(date -u '+%Y-%m-%d %H:%M UTC')
START_SECS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# Processes using at least 5% of a CPU over one second, other than this run.
busy() {
    top -b -n 2 -d 1 -w 200 2> /dev/null | awk '
        /^top -/ { n++ }
        n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 5 && $12 != "top" {
            printf "%s%s (nice %s, %s%% CPU)", sep, $12, $4, $9; sep = ", " }'
}
BUSY_START=$(busy)

# ---- 1. inputs ----
say "inputs: $([ "$DOCS" = 0 ] && echo all || echo "$DOCS") paragraphs"
[ -f "$CORPUS" ] || die "$CORPUS is missing (make $CORPUS)"
if [ "$DOCS" = 0 ]; then
    OURS_INPUT=$CORPUS
    "$TOOLDIR/speed_prep" corpus "$CORPUS" 0 - "$OUT/corpus.tsv" > "$OUT/corpus.stats" ||
        die "speed_prep corpus failed"
else
    OURS_INPUT=$OUT/corpus.jsonl
    "$TOOLDIR/speed_prep" corpus "$CORPUS" "$DOCS" "$OUT/corpus.jsonl" "$OUT/corpus.tsv" \
        > "$OUT/corpus.stats" || die "speed_prep corpus failed"
fi
NDOCS=$(awk '$1 == "documents" { print $2 }' "$OUT/corpus.stats")
RAW=$(awk '$1 == "raw_bytes" { print $2 }' "$OUT/corpus.stats")
"$TOOLDIR/speed_prep" queries "$DATA/querylogs/search-benchmark-game/queries.jsonl" \
    "$DATA/querylogs/trec-2005-terabyte-efficiency/queries.tsv" "$NQ" "$NTREC" "$OUT/q" \
    > "$OUT/queries.stats" || die "speed_prep queries failed"
QARGS=()
SUBARGS=()
mkdir -p "$OUT/q-fts5"
for t in "${TYPES[@]}"; do
    QARGS+=("$t=$OUT/q/$t.txt")
    if [ "$FTS5_MAX" != 0 ]; then
        head -n "$FTS5_MAX" "$OUT/q/$t.txt" > "$OUT/q-fts5/$t.txt"
    else
        cp "$OUT/q/$t.txt" "$OUT/q-fts5/$t.txt"
    fi
    SUBARGS+=("$t=$OUT/q-fts5/$t.txt")
done

# ---- which peers can run ----
PEERS=()
[ -n "$LUCENE_CP" ] && [ -f "$TOOLDIR/lucene/LuceneBench.class" ] && command -v java > /dev/null &&
    PEERS+=(lucene)
[ -x "$TOOLDIR/xapian_bench" ] && PEERS+=(xapian)
[ -x "$TOOLDIR/fts5_bench" ] && PEERS+=(fts5)
say "peers: ${PEERS[*]:-none}"
JAVA=(java -XX:+UseSerialGC -cp "$LUCENE_CP:$TOOLDIR/lucene")

# ---- 2. indexing ----
# timed NAME CMD...: run CMD under /usr/bin/time -v into $OUT/NAME.time;
# its status is the command's.
timed() {
    local name=$1
    shift
    /usr/bin/time -v -o "$OUT/$name.time" "$@" > "$OUT/$name.index.log" 2>&1
}
tv() { # tv NAME FIELD -> a figure from $OUT/NAME.time
    awk -F': ' -v f="$2" '
        function secs(s,  a, n) { n = split(s, a, ":"); return n == 3 ? a[1] * 3600 + a[2] * 60 + a[3] : a[1] * 60 + a[2] }
        index($0, f) { v = $NF }
        END { if (f ~ /wall clock/) print secs(v); else print v + 0 }' "$OUT/$1.time"
}
reuse() { [ "$REUSE_INDEX" = 1 ] && [ -e "$OUT/$1.time" ] && [ -e "$2" ]; }

index_ours() {
    reuse ours "$OUT/ours/MANIFEST" && return
    rm -rf "$OUT/ours"
    # Status 1: committed, with warnings (skipped or repaired inputs).
    timed ours "$BINDIR/index" -q -i "$OUT/ours" "$OURS_INPUT" || [ $? -eq 1 ]
}
index_lucene() {
    reuse lucene "$OUT/lucene" && return
    rm -rf "$OUT/lucene"
    timed lucene "${JAVA[@]}" -Xmx2g LuceneBench index "$OUT/corpus.tsv" "$OUT/lucene"
}
index_xapian() {
    reuse xapian "$OUT/xapian" && return
    rm -rf "$OUT/xapian" "$OUT/xapian.tmp"
    timed xapian "$TOOLDIR/xapian_bench" index "$OUT/corpus.tsv" "$OUT/xapian.tmp" "$OUT/xapian"
    local rc=$?
    rm -rf "$OUT/xapian.tmp"
    return $rc
}
index_fts5() {
    reuse fts5 "$OUT/fts5.db" && return
    rm -f "$OUT/fts5.db"
    timed fts5 "$TOOLDIR/fts5_bench" index "$OUT/corpus.tsv" "$OUT/fts5.db"
}

say "indexing: ours"
index_ours || die "bin/index failed: $(tail -n 5 "$OUT/ours.index.log")"
# The same input on 2 threads: the speed-up over one thread, and whether the
# files are byte-identical (they must be: the merge restores input order).
index_ours_2t() {
    reuse ours-2t "$OUT/ours-2t/MANIFEST" && return
    rm -rf "$OUT/ours-2t"
    timed ours-2t "$BINDIR/index" -q --threads 2 -i "$OUT/ours-2t" "$OURS_INPUT" || [ $? -eq 1 ]
}
say "indexing: ours, 2 threads"
index_ours_2t || die "bin/index --threads 2 failed: $(tail -n 5 "$OUT/ours-2t.index.log")"
# (Segment numbers differ: the threaded run merges its workers' segments.)
SAME_2T=yes
for x in tdx doc pos len sto; do
    a=("$OUT"/ours/*."$x") b=("$OUT"/ours-2t/*."$x")
    [ ${#a[@]} = 1 ] && [ ${#b[@]} = 1 ] && cmp -s "${a[0]}" "${b[0]}" || SAME_2T=no
done
# A peer that fails to index is reported and left out.
OK_PEERS=()
for e in "${PEERS[@]}"; do
    say "indexing: $e"
    if "index_$e"; then
        OK_PEERS+=("$e")
    else
        echo "run_speed: $e indexing failed, left out: $(tail -n 3 "$OUT/$e.index.log")" >&2
        rm -f "$OUT/$e.time"
    fi
done
PEERS=("${OK_PEERS[@]}")

# Sizes: every file of the index (bytes); for ours also without the
# document store (.sto), which the peers do not keep (they store the id).
size_of() { find "$1" -type f ! -name LOCK ! -name flintlock -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
size_ext() { find "$1" -type f -name "$2" -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$OUT/$1.stats"; }

"$BINDIR/index" --stats -i "$OUT/ours" > "$OUT/ours.stats.txt" || die "index --stats failed"
awk '($1 == "postings" || $1 == "positions") && $2 ~ /^[0-9]+$/ { print $1 "\t" $2 }' \
    "$OUT/ours.stats.txt" > "$OUT/ours.stats"
declare -A SIZE POSTFILE
SIZE_ours_all=$(size_of "$OUT/ours")
SIZE[ours]=$((SIZE_ours_all - $(size_ext "$OUT/ours" '*.sto')))
POSTFILE[ours]=$(size_ext "$OUT/ours" '*.doc')
for e in "${PEERS[@]}"; do
    case $e in
    lucene)
        "${JAVA[@]}" LuceneBench stats "$OUT/lucene" > "$OUT/lucene.stats"
        SIZE[lucene]=$(size_of "$OUT/lucene")
        POSTFILE[lucene]=$(size_ext "$OUT/lucene" '*.doc')
        ;;
    xapian)
        "$TOOLDIR/xapian_bench" stats "$OUT/xapian" > "$OUT/xapian.stats"
        SIZE[xapian]=$(size_of "$OUT/xapian")
        POSTFILE[xapian]=$(size_ext "$OUT/xapian" 'postlist.glass')
        ;;
    fts5)
        "$TOOLDIR/fts5_bench" stats "$OUT/fts5.db" > "$OUT/fts5.stats"
        SIZE[fts5]=$(size_of "$OUT/fts5.db")
        POSTFILE[fts5]=
        ;;
    esac
done

# ---- 3. query latency ----
# Each engine runs as a pass server (bench/speed_common.h, --serve): it
# opens its index and warms up once, then runs one timed pass over one query
# type whenever asked.  The passes alternate type by type: for each of ROUNDS
# rounds and each type, this engine, Lucene and Xapian one after the other
# (the order reversed every other round), so that a change of machine speed
# (this kind of virtual machine has phases up to 1.5 times apart, lasting
# seconds to minutes) weighs on every engine alike; each engine's figures
# pool all its passes.  All of them run on one CPU (below).  FTS5, hundreds
# of times slower, runs one pass over its subset, between two of ours.
PASSES=$OUT/passes
rm -rf "$PASSES"
mkdir -p "$PASSES"
ROUNDS=${ROUNDS:-5}
# The CPU: the virtual CPUs of this kind of machine can differ in speed by
# half (a busy hyperthread sibling on the host), and a process lands on
# either; every timed pass runs on the one where a pass of this engine over
# the union queries was fastest.
PIN=()
PIN_NOTE="not pinned (taskset missing)"
if command -v taskset > /dev/null; then
    CAL=""
    for ((c = 0; c < $(nproc); c++)); do
        t=$(taskset -c "$c" "$TOOLDIR/bench_search" -i "$OUT/ours" -k "$K" \
            "union=$OUT/q/union.txt" 2> /dev/null | awk -F'\t' '{ print $4 }')
        CAL="$CAL$c ${t:-999999999}"$'\n'
    done
    CPU=$(printf '%s' "$CAL" | sort -k2,2 -g | head -n 1 | cut -d' ' -f1)
    PIN=(taskset -c "$CPU")
    PIN_NOTE="pinned to CPU $CPU (mean µs of a calibration pass of this engine over the union queries, per CPU: $(printf '%s' "$CAL" | awk '{ printf "%s%s: %s", s, $1, $2; s = ", " }'))"
fi
say "timed passes: $PIN_NOTE"

declare -A SRV_IN SRV_OUT SRV_PID
# server_start NAME CMD...: CMD as a pass server on FIFOs; waits for "ready".
server_start() {
    local name=$1 line fi fo
    shift
    mkfifo "$PASSES/$name.in" "$PASSES/$name.out" || return 1
    # (without the other servers' pipe ends, or closing ours would not end them)
    (
        for f in "${SRV_IN[@]}" "${SRV_OUT[@]}"; do eval "exec $f>&-"; done
        exec "$@"
    ) < "$PASSES/$name.in" > "$PASSES/$name.out" 2> "$OUT/$name.search.log" &
    SRV_PID[$name]=$!
    exec {fi}> "$PASSES/$name.in"
    exec {fo}< "$PASSES/$name.out"
    SRV_IN[$name]=$fi
    SRV_OUT[$name]=$fo
    read -r line <&"$fo" && [ "$line" = ready ]
}
# server_signal SIG NAME: SIG to every server but NAME.
server_signal() {
    local o
    for o in "${!SRV_PID[@]}"; do
        [ "$o" = "$2" ] || kill -"$1" "${SRV_PID[$o]}" 2> /dev/null
    done
}
# server_pass NAME TYPE TAG: one timed pass; $PASSES/NAME.TYPE.TAG.tsv gets
# the latencies, .sum the summary line.  The other servers are stopped
# (SIGSTOP) for its duration: idle, they still have threads (a JVM's
# compiler and collector) that would take turns on the pinned CPU during
# another engine's pass; whatever they had to do they do in their own.
server_pass() {
    local name=$1 type=$2 tag=$3 line
    server_signal STOP "$name"
    printf '%s\t%s\n' "$type" "$PASSES/$name.$type.$tag.tsv" >&"${SRV_IN[$name]}" || {
        server_signal CONT "$name"
        return 1
    }
    while read -r line <&"${SRV_OUT[$name]}"; do
        [ "$line" = end ] && break
        echo "$line"
    done > "$PASSES/$name.$type.$tag.sum"
    server_signal CONT "$name"
    [ "$line" = end ]
}
server_stop() {
    local fi=${SRV_IN[$1]} fo=${SRV_OUT[$1]}
    exec {fi}>&- {fo}<&-
    wait "${SRV_PID[$1]}" 2> /dev/null
}

say "queries: starting the engines (Lucene warms up for ${LUCENE_WARMUP}-${LUCENE_WARMUP_MAX} s)"
SERVERS=()
server_start ours "${PIN[@]}" "$TOOLDIR/bench_search" --serve -i "$OUT/ours" -k "$K" "${QARGS[@]}" &&
    SERVERS+=(ours) || die "bench_search --serve failed: $(tail -n 3 "$OUT/ours.search.log")"
for e in "${PEERS[@]}"; do
    case $e in
    lucene)
        # Warmed up on every CPU (the JIT compiles on other threads), then
        # all its threads moved to the chosen one, and three more untimed
        # rounds (the first passes after the move ran up to 1.6 times
        # slower).
        if server_start lucene "${JAVA[@]}" -Xms1g -Xmx1g LuceneBench search --serve -k "$K" \
            --warmup-seconds "$LUCENE_WARMUP" --max-warmup-seconds "$LUCENE_WARMUP_MAX" \
            "$OUT/lucene" "${QARGS[@]}"; then
            ok=yes
            [ ${#PIN[@]} = 0 ] || taskset -a -p -c "$CPU" "${SRV_PID[lucene]}" > /dev/null || ok=no
            for w in 1 2 3; do
                for t in "${TYPES[@]}"; do server_pass lucene "$t" "settle$w" || ok=no; done
            done
            rm -f "$PASSES"/lucene.*.settle*
            [ "$ok" = yes ] && SERVERS+=(lucene)
        fi
        ;;
    xapian)
        server_start xapian "${PIN[@]}" "$TOOLDIR/xapian_bench" search --serve -k "$K" \
            "$OUT/xapian" "${QARGS[@]}" && SERVERS+=(xapian)
        ;;
    esac
    [ "$e" = fts5 ] || [[ " ${SERVERS[*]} " == *" $e "* ]] ||
        echo "run_speed: $e did not start, left out: $(tail -n 3 "$OUT/$e.search.log")" >&2
done
# One untimed round of every engine first: the engines that started
# before Lucene sat idle through its warm-up (minutes), and the first
# timed passes after that ran up to 1.3 times slower than the next ones.
for t in "${TYPES[@]}"; do
    for e in "${SERVERS[@]}"; do server_pass "$e" "$t" settle > /dev/null; done
done
rm -f "$PASSES"/*.settle.*
say "queries: $ROUNDS rounds of timed passes (${SERVERS[*]}), type by type"
for ((r = 1; r <= ROUNDS; r++)); do
    order=("${SERVERS[@]}")
    if ((r % 2 == 0)); then
        order=()
        for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do order+=("${SERVERS[$i]}"); done
    fi
    for t in "${TYPES[@]}"; do
        for e in "${order[@]}"; do
            server_pass "$e" "$t" "$r" ||
                echo "run_speed: $e: pass $r of $t failed (see $OUT/$e.search.log)" >&2
        done
    done
done
for e in "${SERVERS[@]}"; do server_stop "$e"; done
# A peer that did not start is left out of the report.
RUN_PEERS=()
for e in "${PEERS[@]}"; do
    [ "$e" = fts5 ] || [[ " ${SERVERS[*]} " == *" $e "* ]] && RUN_PEERS+=("$e")
done
PEERS=("${RUN_PEERS[@]}")
# split_types ENGINE TAG FILE: a pass over every type into per-type files.
split_types() {
    awk -F'\t' -v d="$PASSES" -v e="$1" -v tag="$2" '{ print > (d "/" e "." $2 "." tag ".tsv") }' "$3"
    rm -f "$3"
}
if [[ " ${PEERS[*]} " == *" fts5 "* ]]; then
    say "queries: fts5 (one pass$([ "$FTS5_MAX" != 0 ] && echo ", between two of ours on the same queries"))"
    sub_pass() {
        "${PIN[@]}" "$TOOLDIR/bench_search" -i "$OUT/ours" -k "$K" --engine ours-fts5-subset \
            --queries-out "$PASSES/sub.tmp" "${SUBARGS[@]}" > /dev/null \
            2>> "$PASSES/ours-fts5-subset.log"
        split_types ours-fts5-subset "$1" "$PASSES/sub.tmp"
    }
    [ "$FTS5_MAX" != 0 ] && sub_pass 1
    "${PIN[@]}" "$TOOLDIR/fts5_bench" search -k "$K" --queries-out "$PASSES/fts5.tmp" "$OUT/fts5.db" \
        "${SUBARGS[@]}" > /dev/null 2> "$OUT/fts5.search.log" ||
        echo "run_speed: fts5: some queries failed (see $OUT/fts5.search.log)" >&2
    split_types fts5 1 "$PASSES/fts5.tmp"
    [ "$FTS5_MAX" != 0 ] && sub_pass 2
fi
# pooled ENGINE: ENGINE's summary line per type over all its passes (as
# bench/speed_common.h prints them: engine, type, queries, mean, p50, p99,
# QPS, non-empty, hits, and then the number of passes; queries, non-empty
# and hits per pass), and its per-query mean latency into
# $OUT/ENGINE.queries.tsv.
pooled() {
    local e=$1 t files np
    : > "$OUT/$e.queries.tsv"
    for t in "${TYPES[@]}"; do
        files=("$PASSES/$e.$t".*.tsv)
        [ -e "${files[0]}" ] || continue
        np=${#files[@]}
        cat "${files[@]}" | awk -F'\t' -v np="$np" '
            { k = $3; if (!(k in s)) { order[++n] = k; e = $1; t = $2 } s[k] += $4; h[k] = $5 }
            END { for (i = 1; i <= n; i++)
                      printf "%s\t%s\t%s\t%.1f\t%s\n", e, t, order[i], s[order[i]] / np, h[order[i]] }' \
            >> "$OUT/$e.queries.tsv"
        cat "${files[@]}" | awk -F'\t' '{ print $4 "\t" $5 }' | sort -t $'\t' -k1,1g |
            awk -F'\t' -v e="$e" -v t="$t" -v np="$np" '
                function rank(p,  r) { r = int(p * n); if (r < p * n) r++; if (r < 1) r = 1; return r }
                { v[++n] = $1; sum += $1; ne += ($2 > 0); hits += $2 }
                END { if (n) printf "%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\n", e, t, n / np,
                          sum / n, v[rank(0.50)], v[rank(0.99)], (sum > 0 ? n / (sum / 1e6) : 0),
                          ne / np, hits / np, np }'
    done
}
: > "$OUT/latency.tsv"
for e in ours ours-fts5-subset "${PEERS[@]}"; do
    pooled "$e" >> "$OUT/latency.tsv"
done
# Batch throughput of bin/search on 1 and 2 threads: the queries of the
# union, intersection, phrase and trec files, top K, no snippets, after one
# untimed run.
# Five passes over them, so that opening the index (which verifies every
# file's checksum, on one thread) weighs little beside the queries.
for _ in 1 2 3 4 5; do
    cat "$OUT/q/union.txt" "$OUT/q/intersection.txt" "$OUT/q/phrase.txt" "$OUT/q/trec.txt"
done > "$OUT/q-batch.txt"
NBATCH=$(grep -c . "$OUT/q-batch.txt")
batch() {
    "$BINDIR/search" -i "$OUT/ours" --batch "$OUT/q-batch.txt" --format trec -k "$K" \
        --threads "$1" > "$OUT/batch-$1.trec" 2> "$OUT/batch-$1.log"
}
say "queries: ours, batch on 1 and 2 threads"
batch 1
declare -A BATCH_S
for n in 1 2; do
    t0=$(date +%s.%N)
    batch "$n" || echo "run_speed: bin/search --batch --threads $n failed" >&2
    BATCH_S[$n]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
done
SAME_BATCH=$(cmp -s "$OUT/batch-1.trec" "$OUT/batch-2.trec" && echo yes || echo no)
# ---- 4. hot loop ----
say "hot loop: bench_codec"
"$TOOLDIR/bench_codec" -i "$OUT/ours" --min-ms "$CODEC_MS" "$OUT/q/union.txt" "$OUT/q/trec.txt" \
    > "$OUT/codec.md" 2> "$OUT/codec.log" || die "bench_codec failed: $(cat "$OUT/codec.log")"

# ---- 5. report ----
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git rev-parse --short=12 HEAD 2> /dev/null || echo unknown)
# Uncommitted changes to the code measured (this file's output excluded).
DIRTY=$(git status --porcelain -- bench common searcher indexer ':!bench/RESULTS.md' 2> /dev/null |
    grep -q . && echo " (with uncommitted changes)")
CPU_MODEL=$(lscpu | awk -F': *' '/^Model name/ { print $2; exit }')
CORES=$(nproc)
ver() { "$@" 2> /dev/null | head -n 1; }
LUCENE_VER=$(stat_of lucene version 2> /dev/null)
JAVA_VER=$(java -version 2>&1 | head -n 1)
XAPIAN_VER=$(ver xapian-config --version | awk '{ print $NF }')
SQLITE_VER=$(pkg-config --modversion sqlite3 2> /dev/null || ver sqlite3 --version | awk '{ print $1 }')
CC_VER=$(ver "${CC:-cc}" --version)

fmt_int() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else printf "–" }'; }

section=$(mktemp)
{
    echo
    echo "## $START_TIME — $MODE: $(fmt_int "$NDOCS") paragraphs, commit $COMMIT$DIRTY"
    echo
    echo "- Command: \`$COMMAND\` ($(( $(date +%s) - START_SECS )) s from start to this report, building excluded)"
    echo "- Machine: $CPU_MODEL, $CORES cores; $(uname -sr); $CC_VER"
    echo "- Load average (1, 5, 15 min): $LOAD_START at the start, $LOAD_END at the end"
    echo "- Other processes busy at the start: ${BUSY_START:-none}"
    echo "- Peers: ${PEERS[*]:-none}; Lucene ${LUCENE_VER:-–} on $JAVA_VER, Xapian ${XAPIAN_VER:-–}, SQLite ${SQLITE_VER:-–}"
    echo "- Corpus: $(fmt_int "$NDOCS") paragraphs, $(fmt_int "$RAW") bytes of title + text"
    echo "- Queries: $(awk '{ printf "%s%s %s", s, $2, $1; s = ", " }' "$OUT/queries.stats"); top $K; FTS5: $([ "$FTS5_MAX" = 0 ] && echo "all" || echo "the first $FTS5_MAX of each type, and its ratios are to this engine on the same queries"); Lucene JIT warm-up: $(grep -o 'warm-up.*' "$OUT/lucene.search.log" 2> /dev/null || echo –)"
    echo
    echo "### Query latency"
    echo
    echo "Timed passes: $PIN_NOTE."
    echo
    echo "Microseconds per query, over every query of all of an engine's timed passes ($ROUNDS per type for this engine, Lucene and Xapian, alternating type by type, see below; FTS5: one); QPS = queries / summed latency; ratio = peer ÷ ours (above 1: ours is faster); queries and non-empty (queries with at least one hit) are per pass."
    echo
    echo "| type | engine | queries | mean µs | p50 µs | p99 µs | QPS | mean ÷ ours | p50 ÷ ours | p99 ÷ ours | non-empty |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for t in "${TYPES[@]}"; do
        ours_line=$(awk -F'\t' -v t="$t" '$1 == "ours" && $2 == t' "$OUT/latency.tsv")
        [ -n "$ours_line" ] || continue
        IFS=$'\t' read -r _ _ n mean p50 p99 qps ne _ <<< "$ours_line"
        echo "| $t | **ours** | $n | $mean | $p50 | $p99 | $qps | 1 | 1 | 1 | $ne |"
        for e in "${PEERS[@]}"; do
            base=ours
            [ "$e" = fts5 ] && [ "$FTS5_MAX" != 0 ] && base=ours-fts5-subset
            line=$(awk -F'\t' -v e="$e" -v t="$t" '$1 == e && $2 == t' "$OUT/latency.tsv")
            bline=$(awk -F'\t' -v e="$base" -v t="$t" '$1 == e && $2 == t' "$OUT/latency.tsv")
            if [ -z "$line" ]; then
                echo "| $t | $e | – | n/a | | | | | | | |"
                continue
            fi
            IFS=$'\t' read -r _ _ n mean p50 p99 qps ne _ <<< "$line"
            IFS=$'\t' read -r _ _ _ bmean bp50 bp99 _ _ _ <<< "$bline"
            note=
            [ "$base" != ours ] && note=" (ours on these: $bmean / $bp50 / $bp99)"
            echo "| $t | $e | $n | $mean | $p50 | $p99 | $qps | $(ratio "$mean" "$bmean") | $(ratio "$p50" "$bp50") | $(ratio "$p99" "$bp99") | $ne$note |"
        done
    done
    echo
    echo "Each round's passes, mean µs (within a round, each type's passes ran one after the other; the spread between rounds shows how much the machine's speed moved):"
    echo
    echo "| round | engine |$(for t in "${TYPES[@]}"; do printf ' %s |' "$t"; done)"
    echo "|---:|---|$(for t in "${TYPES[@]}"; do printf -- '---:|'; done)"
    for ((r = 1; r <= ROUNDS; r++)); do
        for e in ours "${PEERS[@]}"; do
            [ "$e" = fts5 ] && continue
            row="| $r | $e |"
            for t in "${TYPES[@]}"; do
                v=$(awk -F'\t' '{ print $4; exit }' "$PASSES/$e.$t.$r.sum" 2> /dev/null)
                row="$row ${v:-–} |"
            done
            echo "$row"
        done
    done
    echo
    echo "The ten slowest queries of this engine (mean over its passes), beside the peers' times for the same query (µs):"
    echo
    echo "| type | query | ours |$(for e in "${PEERS[@]}"; do printf ' %s |' "$e"; done)"
    echo "|---|---|---:|$(for e in "${PEERS[@]}"; do printf -- '---:|'; done)"
    sort -t $'\t' -k4,4 -g -r "$OUT/ours.queries.tsv" | head -n 10 |
        while IFS=$'\t' read -r _ t q us _; do
            row="| $t | \`$q\` | $us |"
            for e in "${PEERS[@]}"; do
                v=$(awk -F'\t' -v t="$t" -v q="$q" '$2 == t && $3 == q { print $4; exit }' \
                    "$OUT/$e.queries.tsv" 2> /dev/null)
                row="$row ${v:-–} |"
            done
            echo "$row"
        done
    echo
    echo "Pruning in this engine: postings whose BM25 contribution was computed, against the postings in the query terms' lists (what an exhaustive evaluation of a disjunction scores), from the same timed pass; \"pruned\" = queries where some match was never fully scored."
    echo
    echo "| type | postings scored | postings in the lists | scored / listed | stretches skipped | queries pruned |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F'\t' '$1 == "bench_search: pruning" && $2 == "ours" {
            split($4, a, " "); split($5, b, " "); split($6, c, " "); split($7, d, " ");
            printf "| %s | %d | %d | %.1f%% | %d | %s of %s |\n", $3, a[2], b[2],
                   b[2] ? 100 * a[2] / b[2] : 0, c[2], d[2], d[4] }' "$OUT/ours.search.log"
    echo
    echo "### Indexing"
    echo
    echo "Wall and CPU time of the whole command (parsing the input, analysis, writing, merging to one segment or compacting); peak resident memory from /usr/bin/time -v; size = every file of the index; bits per posting = size × 8 / postings (one posting = one term in one document), and the same for the file of doc ids and frequencies alone where the engine keeps one."
    echo
    echo "| engine | wall s | CPU s | peak RSS MiB | MB/s | index bytes | % of raw | postings | positions | bits / posting | postings file, bits / posting | wall ÷ ours | size ÷ ours |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    wall_ours=$(tv ours 'Elapsed (wall clock)')
    for e in ours "${PEERS[@]}"; do
        wall=$(tv "$e" 'Elapsed (wall clock)')
        cpu=$(awk -v u="$(tv "$e" 'User time')" -v s="$(tv "$e" 'System time')" 'BEGIN { printf "%.1f", u + s }')
        rss=$(awk -v k="$(tv "$e" 'Maximum resident set size')" 'BEGIN { printf "%.0f", k / 1024 }')
        size=${SIZE[$e]}
        pf=${POSTFILE[$e]}
        post=$(stat_of "$e" postings)
        pos=$(stat_of "$e" positions)
        mbs=$(awk -v r="$RAW" -v w="$wall" 'BEGIN { printf "%.1f", r / 1e6 / w }')
        pct=$(awk -v s="$size" -v r="$RAW" 'BEGIN { printf "%.1f", 100 * s / r }')
        bpp=$(awk -v s="$size" -v p="$post" 'BEGIN { if (p > 0) printf "%.1f", 8 * s / p; else printf "–" }')
        pfb=$(awk -v s="$pf" -v p="$post" 'BEGIN { if (p > 0 && s != "") printf "%.1f", 8 * s / p; else printf "–" }')
        label=$e
        [ "$e" = ours ] && label="**ours** (without the document store)"
        echo "| $label | $wall | $cpu | $rss | $mbs | $(fmt_int "$size") | $pct | $(fmt_int "${post:-0}") | $(fmt_int "${pos:-0}") | $bpp | $pfb | $(ratio "$wall" "$wall_ours") | $(ratio "$size" "${SIZE[ours]}") |"
    done
    echo
    wall_2t=$(tv ours-2t 'Elapsed (wall clock)')
    cpu_2t=$(awk -v u="$(tv ours-2t 'User time')" -v s="$(tv ours-2t 'System time')" 'BEGIN { printf "%.1f", u + s }')
    rss_2t=$(awk -v k="$(tv ours-2t 'Maximum resident set size')" 'BEGIN { printf "%.0f", k / 1024 }')
    echo "Indexing on 2 threads (\`bin/index --threads 2\`, same input): $wall_2t s wall, $cpu_2t s CPU, peak RSS $rss_2t MiB; **$(ratio "$wall_ours" "$wall_2t")× the single-thread rate**; segment files (.tdx .doc .pos .len .sto) byte-identical to the single-thread index's: $SAME_2T."
    echo
    echo "With its document store (zlib level 1 copies of every title and text, for snippets) this engine's index is $(fmt_int "$SIZE_ours_all") bytes, $(awk -v s="$SIZE_ours_all" -v r="$RAW" 'BEGIN { printf "%.1f", 100 * s / r }')% of the raw text."
    echo
    echo "### Batch throughput (bin/search --batch --threads N)"
    echo
    echo "The union, intersection, phrase and TREC queries five times over ($NBATCH queries) in one batch, top $K, trec output, no snippets, after one untimed run; wall time of the whole command, including opening the index (on one thread: it verifies every file's checksum)."
    echo
    echo "| threads | wall s | queries / s | ÷ 1 thread | output identical to 1 thread |"
    echo "|---:|---:|---:|---:|---|"
    for n in 1 2; do
        qps=$(awk -v q="$NBATCH" -v s="${BATCH_S[$n]}" 'BEGIN { if (s > 0) printf "%.0f", q / s; else printf "–" }')
        same=yes
        [ "$n" = 2 ] && same=$SAME_BATCH
        echo "| $n | ${BATCH_S[$n]} | $qps | $(ratio "${BATCH_S[1]}" "${BATCH_S[$n]}") | $same |"
    done
    echo
    echo "### Hot loop (bench/bench_codec.c)"
    echo
    sed 's/^### /#### /' "$OUT/codec.md"
} > "$section"

if [ ! -f "$RESULTS" ]; then
    {
        echo "# Speed benchmark results"
        echo
        echo "Sections are appended by bench/run_speed.sh (\`make bench\`, \`make bench-quick\`), newest last."
    } > "$RESULTS"
fi
cat "$section" >> "$RESULTS"
cat "$section"
rm -f "$section"
say "appended to $RESULTS"
