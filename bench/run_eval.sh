#!/usr/bin/env bash
# run_eval.sh - the ranking evaluation behind bench/EVAL.md (`make eval`).
#
# Indexes BEIR SciFact and Cranfield, runs every judged query of each split
# through bin/search (top 1000, --literal) and through the SQLite FTS5 peer
# (bench/peers/fts5_run), evaluates each run with bin/eval, and prints a
# Markdown table of the results.  Everything it writes goes under $OUT.
#
# Environment (the Makefile sets them): BINDIR (bin/index, bin/search,
# bin/eval), TOOLDIR (beir_batch, fts5_run), DATA (the shared data folder),
# OUT (default bench/out/eval), K1 and B (default 1.2 and 0.75).
set -euo pipefail

BINDIR=${BINDIR:-bin}
TOOLDIR=${TOOLDIR:-build/bench}
DATA=${DATA:-../shared/data}
OUT=${OUT:-bench/out/eval}
K1=${K1:-1.2}
B=${B:-0.75}
mkdir -p "$OUT"

# "set split" pairs evaluated, in table order.
SPLITS=("scifact test" "scifact train" "cranfield test")
METRICS=(ndcg_cut_10 map_cut_1000 recall_100 recall_1000 P_10 mrr_cut_10)

metric() { # metric NAME EVALFILE -> the value of the `all` line
    awk -F'\t' -v m="$1" '$1 == m && $2 == "all" { print $3 }' "$2"
}

row() { # row LABEL EVALFILE
    local line="| $1 |"
    for m in "${METRICS[@]}"; do line="$line $(metric "$m" "$2") |"; done
    echo "$line"
}

for set in scifact cranfield; do
    echo "== indexing $set" >&2
    rm -rf "$OUT/$set.index"
    # Exit 1 means indexed with warnings: Cranfield's documents 471 and 995
    # are empty and skipped (they cannot match any query anyway).
    "$BINDIR/index" -q -i "$OUT/$set.index" "$DATA/$set/corpus.jsonl" || [ $? -eq 1 ]
done

summary="$OUT/summary.md"
{
    echo "| run | nDCG@10 | MAP@1000 | R@100 | R@1000 | P@10 | MRR@10 |"
    echo "|---|---|---|---|---|---|---|"
} > "$summary"

evaluate() { # evaluate LABEL QRELS RUN NAME
    "$BINDIR/eval" -q "$2" "$3" > "$OUT/$4.eval"
    row "$1" "$OUT/$4.eval" >> "$summary"
}

for pair in "${SPLITS[@]}"; do
    read -r set split <<< "$pair"
    name="$set-$split"
    qrels="$DATA/$set/qrels/$split.tsv"
    echo "== $name" >&2
    "$TOOLDIR/beir_batch" "$DATA/$set/queries.jsonl" "$qrels" > "$OUT/$name.queries.tsv"

    "$BINDIR/search" -i "$OUT/$set.index" --batch "$OUT/$name.queries.tsv" --format trec \
        -k 1000 --literal --k1 "$K1" --b "$B" --tag bm25 > "$OUT/$name.bm25.trec"
    evaluate "$name, bin/search BM25 k1=$K1 b=$B" "$qrels" "$OUT/$name.bm25.trec" "$name.bm25"

    # Anserini's BEIR settings, to set beside its published SciFact figures.
    if [ "$name" = scifact-test ]; then
        "$BINDIR/search" -i "$OUT/$set.index" --batch "$OUT/$name.queries.tsv" --format trec \
            -k 1000 --literal --k1 0.9 --b 0.4 --tag bm25 > "$OUT/$name.bm25-0.9-0.4.trec"
        evaluate "$name, bin/search BM25 k1=0.9 b=0.4" "$qrels" "$OUT/$name.bm25-0.9-0.4.trec" \
            "$name.bm25-0.9-0.4"
    fi

    "$TOOLDIR/fts5_run" -k 1000 "$DATA/$set/corpus.jsonl" "$OUT/$name.queries.tsv" \
        > "$OUT/$name.fts5.trec"
    evaluate "$name, SQLite FTS5 bm25()" "$qrels" "$OUT/$name.fts5.trec" "$name.fts5"

    # Cross-check nDCG@10 with the independent Python implementation.
    if command -v python3 > /dev/null; then
        echo "   ndcg_at_10.py: $(python3 bench/ndcg_at_10.py "$qrels" "$OUT/$name.bm25.trec")" \
            " bin/eval: nDCG@10 $(metric ndcg_cut_10 "$OUT/$name.bm25.eval")" \
            "R@100 $(metric recall_100 "$OUT/$name.bm25.eval")" >&2
    fi
done

cat "$summary"
