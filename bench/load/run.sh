#!/bin/sh
# Load test of bin/searchd (make load-test; results in bench/LOAD.md).
#
# Indexes the first $DOCS Wikipedia paragraphs, starts searchd on a free
# loopback port, and runs wrk for $SECONDS_ seconds with queries from the
# shared query logs (TREC 2005 efficiency queries as plain words, and the
# search-benchmark-game's phrase / +required / plain forms) while a
# background loop keeps updating the index with bin/index: every round
# adds new paragraphs and replaces existing ones (changed text), so the
# server keeps loading new generations under load.  searchd's resident
# memory is sampled every second.  Loopback only; everything it starts is
# stopped at the end.
#
# Environment: BINDIR, DATA (shared data), WIKI_PARAS (paragraph JSONL),
# SECONDS_ (duration), DOCS, OUT (work directory), WRK_THREADS,
# WRK_CONNECTIONS, THREADS (searchd), UPDATE_DOCS (documents per update).
set -eu
BINDIR=${BINDIR:-bin}
DATA=${DATA:-../shared/data}
WIKI_PARAS=${WIKI_PARAS:-bench/out/enwiki-paragraphs.jsonl}
SECONDS_=${SECONDS_:-60}
DOCS=${DOCS:-100000}
OUT=${OUT:-bench/out/load}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
THREADS=${THREADS:-$(nproc)}
UPDATE_DOCS=${UPDATE_DOCS:-200}
NQUERIES=${NQUERIES:-4000}

for tool in wrk curl; do
    command -v $tool >/dev/null || { echo "load-test: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done
[ -s "$WIKI_PARAS" ] || { echo "load-test: no $WIKI_PARAS (make $WIKI_PARAS)" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
INDEX=$OUT/index

echo "== index: first $DOCS paragraphs"
head -n "$DOCS" "$WIKI_PARAS" > "$OUT/base.jsonl"
# the paragraphs after them feed the updates
tail -n +"$((DOCS + 1))" "$WIKI_PARAS" | head -n 200000 > "$OUT/more.jsonl"
rm -rf "$INDEX"
"$BINDIR/index" -q -i "$INDEX" "$OUT/base.jsonl"

echo "== queries"
# TREC 2005 efficiency queries, plain words; the benchmark game's forms in
# the query language, keeping only those bin/search accepts.
tail -n +2 "$DATA/querylogs/trec-2005-terabyte-efficiency/queries.tsv" | head -n "$NQUERIES" |
    cut -f2 | tr -d '\r' | awk 'NF { print "1\t" $0 }' > "$OUT/queries.tsv"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    q = json.loads(line)["query"].strip()
    if q and "\t" not in q: print(q)
' "$DATA/querylogs/search-benchmark-game/queries.jsonl" > "$OUT/game.txt"
"$BINDIR/search" -i "$INDEX" --batch "$OUT/game.txt" --no-snippets --format trec -k 1 \
    > /dev/null 2> "$OUT/game-errors.txt" || true
# batch query ids are line numbers; drop the lines bin/search refused
awk 'FILENAME == ARGV[1] { if (match($0, /^search: query [0-9]+:/)) bad[substr($0, 15, RLENGTH - 15)] = 1; next }
                   !(FNR in bad) { print "0\t" $0 }' "$OUT/game-errors.txt" "$OUT/game.txt" \
    >> "$OUT/queries.tsv"
echo "$(wc -l < "$OUT/queries.tsv") queries ($(grep -c '^1' "$OUT/queries.tsv") plain, $(grep -c '^0' "$OUT/queries.tsv") query language)"

echo "== searchd"
rm -f "$OUT/port"
"$BINDIR/searchd" -i "$INDEX" --port 0 --port-file "$OUT/port" --threads "$THREADS" \
    --reload-ms 200 2> "$OUT/searchd.log" &
SERVER=$!
UPDATER=""
SAMPLER=""
cleanup() {
    [ -n "$UPDATER" ] && kill "$UPDATER" 2>/dev/null || true
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
    kill "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
i=0
while [ ! -s "$OUT/port" ]; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "searchd did not start" >&2; cat "$OUT/searchd.log" >&2; exit 1; }
    kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/searchd.log" >&2; exit 1; }
    sleep 0.1
done
PORT=$(cat "$OUT/port")
URL=http://127.0.0.1:$PORT
curl -sf "$URL/health" > /dev/null

# Warm up (page cache, every thread's searcher) and, for comparison, measure
# the same load on the index while nothing updates it.
echo "== wrk without updates: 10 s (warm-up)"
wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d 10s --timeout 10s --latency \
    -s bench/load/queries.lua "$URL/" -- "$OUT/queries.tsv" > "$OUT/wrk-static.txt"
grep -E "Requests/sec|50%|99%|Non-2xx|Socket" "$OUT/wrk-static.txt" || true

# Every second: elapsed seconds, searchd's VmRSS, RssAnon (heap and
# stacks) and RssFile (mapped index files) in kB, and the index size in kB.
(
    t=0
    while kill -0 "$SERVER" 2>/dev/null; do
        mem=$(awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s\t", $2 }' /proc/"$SERVER"/status 2>/dev/null)
        size=$(du -sk "$INDEX" 2>/dev/null | cut -f1)
        printf '%s\t%s%s\n' "$t" "$mem" "${size:-0}"
        t=$((t + 1))
        sleep 1
    done
) > "$OUT/rss.tsv" &
SAMPLER=$!

# Updates: each round adds UPDATE_DOCS new paragraphs and replaces as many
# existing ones (their text changed), then commits (bin/index's merge
# policy may merge segments after it).
(
    round=0
    while :; do
        round=$((round + 1))
        start=$(( (round - 1) * UPDATE_DOCS + 1 ))
        tail -n +"$start" "$OUT/more.jsonl" | head -n "$UPDATE_DOCS" > "$OUT/update.jsonl"
        head -n $(( round * UPDATE_DOCS % DOCS + UPDATE_DOCS )) "$OUT/base.jsonl" | tail -n "$UPDATE_DOCS" |
            sed "s/\"text\":\"/\"text\":\"revised in round $round. /" >> "$OUT/update.jsonl"
        "$BINDIR/index" -q -i "$INDEX" "$OUT/update.jsonl" || echo "update round $round failed" >&2
        echo "$round" > "$OUT/rounds"
        sleep 1
    done
) 2> "$OUT/updates.log" &
UPDATER=$!

echo "== wrk: ${SECONDS_} s, $WRK_THREADS threads, $WRK_CONNECTIONS connections, searchd $THREADS threads"
gen0=$(curl -sf "$URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
# searchd's CPU time (user + system, clock ticks) before and after the run
cpu_ticks() { awk '{ print $14 + $15 }' /proc/"$SERVER"/stat; }
cpu0=$(cpu_ticks)
wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${SECONDS_}s" --timeout 10s --latency \
    -s bench/load/queries.lua "$URL/" -- "$OUT/queries.tsv" | tee "$OUT/wrk.txt"
kill "$UPDATER" 2>/dev/null || true
wait "$UPDATER" 2>/dev/null || true
UPDATER=""
cpu1=$(cpu_ticks)
curl -sf "$URL/stats" > "$OUT/stats.json"
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=""
kill -TERM "$SERVER"
status=0
wait "$SERVER" || status=$?
trap - EXIT INT TERM
echo "searchd exit status: $status"

python3 - "$OUT" "$gen0" "$status" "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" <<'PY'
import json, re, sys
out, gen0, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cpu_s = int(sys.argv[4]) / int(sys.argv[5])
wrk = open(f"{out}/wrk.txt").read()
stats = json.load(open(f"{out}/stats.json"))
rows = [[int(x) for x in l.split()] for l in open(f"{out}/rss.tsv") if len(l.split()) == 5]
wrk_static = open(f"{out}/wrk-static.txt").read()
def grab(pattern, text=wrk, default="0"):
    m = re.search(pattern, text)
    return m.group(1) if m else default
def mib(col, part):
    v = [r[col] for r in part]
    return sum(v) / len(v) / 1024
non2xx = int(grab(r"Non-2xx or 3xx responses: (\d+)"))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", wrk)
sock_total = sum(int(x) for x in sock.groups()) if sock else 0
first, last = rows[: min(10, len(rows))], rows[-min(10, len(rows)):]
rps, nreq = grab(r"Requests/sec:\s+([\d.]+)"), grab(r"(\d+) requests in")
p50, p99 = grab(r"50%\s+(\S+)"), grab(r"99%\s+(\S+)")
srps = grab(r"Requests/sec:\s+([\d.]+)", wrk_static)
sp50, sp99 = grab(r"50%\s+(\S+)", wrk_static), grab(r"99%\s+(\S+)", wrk_static)
print()
print(f"| requests/s while updating | {rps} |")
print(f"| requests | {nreq} |")
print(f"| latency p50 / p99 | {p50} / {p99} |")
print(f"| non-2xx responses | {non2xx} |")
print(f"| socket errors | {sock.group(0) if sock else 'none'} |")
print(f"| searchd CPU time per request (user + system, reloads included) | {cpu_s * 1000 / max(1, int(nreq)):.2f} ms ({cpu_s:.1f} s for {nreq} requests) |")
print(f"| without updates (10 s warm-up): requests/s, p50 / p99 | {srps}, {sp50} / {sp99} |")
print(f"| generations loaded during the run | {stats['generation'] - gen0} (generation {gen0} -> {stats['generation']}, {stats['documents']} documents, {stats['segments']} segments) |")
print(f"| generations open at the end | {stats['generations_open']} |")
print(f"| reload errors | {stats['reload_errors']} |")
print(f"| searchd RSS, MiB, mean of the first / last 10 samples | {mib(1, first):.1f} / {mib(1, last):.1f} (min {min(r[1] for r in rows)/1024:.1f}, max {max(r[1] for r in rows)/1024:.1f}, {len(rows)} samples) |")
print(f"| of which heap and stacks (RssAnon) | {mib(2, first):.1f} / {mib(2, last):.1f} (max {max(r[2] for r in rows)/1024:.1f}) |")
print(f"| of which mapped index files (RssFile) | {mib(3, first):.1f} / {mib(3, last):.1f} (max {max(r[3] for r in rows)/1024:.1f}) |")
print(f"| index size on disk, MiB | {mib(4, first):.1f} / {mib(4, last):.1f} |")
print(f"| searchd exit status after SIGTERM | {status} |")
static_bad = int(grab(r"Non-2xx or 3xx responses: (\d+)", wrk_static)) + \
    len(re.findall(r"Socket errors", wrk_static))
ok = non2xx == 0 and sock_total == 0 and static_bad == 0 and status == 0
print("\nload-test: " + ("ok" if ok else "FAILED (non-2xx, socket errors or exit status)"))
sys.exit(0 if ok else 1)
PY
