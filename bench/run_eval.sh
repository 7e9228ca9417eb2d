#!/usr/bin/env bash
# run_eval.sh - the ranking evaluation behind bench/EVAL.md (`make eval`).
#
# 1. Candidate settings on SciFact's *train* split only (where the defaults
#    are chosen): each analyzer of `bin/index --analyzer` with the default
#    BM25, then on the default index every BM25 variant, a few k1/b pairs
#    and Lucene's rounded lengths -> $OUT/train-candidates.md.
#    Then the title weight (BM25F, --title-weight W --title-b B) over a
#    grid of W and B, also on train only; the best nDCG@10 is the chosen
#    setting -> $OUT/train-bm25f.md.
# 2. The defaults on every split of SciFact and on Cranfield, and the
#    chosen BM25F setting, beside the SQLite FTS5 peer
#    (bench/peers/fts5_run) -> $OUT/summary.md.
# Every judged query is run through bin/search (top 1000, --literal) and
# each run evaluated with bin/eval.  Everything it writes goes under $OUT.
#
# Environment (the Makefile sets them): BINDIR (bin/index, bin/search,
# bin/eval), TOOLDIR (beir_batch, fts5_run), DATA (the shared data folder),
# OUT (default bench/out/eval), K1 and B (default 1.2 and 0.75: bin/search's
# defaults).  Indexes are built with bin/index's default analyzer (porter).
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
# The other analyzers, for the train comparison.
for a in english english-stop porter-stop; do
    echo "== indexing scifact, --analyzer $a" >&2
    rm -rf "$OUT/scifact-$a.index"
    "$BINDIR/index" -q --analyzer "$a" -i "$OUT/scifact-$a.index" "$DATA/scifact/corpus.jsonl"
done

# ---- 1. candidates on SciFact train ----
train_qrels="$DATA/scifact/qrels/train.tsv"
"$TOOLDIR/beir_batch" "$DATA/scifact/queries.jsonl" "$train_qrels" > "$OUT/scifact-train.queries.tsv"
# "label|index|bin/search options" (the first one is the default)
CANDIDATES=(
    "porter (default), lucene k1=1.2 b=0.75|scifact|"
    "english|scifact-english|"
    "english-stop|scifact-english-stop|"
    "porter-stop|scifact-porter-stop|"
    "porter, robertson|scifact|--bm25 robertson"
    "porter, atire|scifact|--bm25 atire"
    "porter, bm25l delta=0.5|scifact|--bm25 bm25l"
    "porter, bm25plus delta=1|scifact|--bm25 bm25plus"
    "porter, --lucene-norms|scifact|--lucene-norms"
    "porter, k1=0.9 b=0.4|scifact|--k1 0.9 --b 0.4"
    "porter, k1=0.9 b=0.75|scifact|--k1 0.9 --b 0.75"
    "porter, k1=1.2 b=0.6|scifact|--k1 1.2 --b 0.6"
    "porter, k1=1.2 b=0.9|scifact|--k1 1.2 --b 0.9"
    "porter, k1=1.5 b=0.75|scifact|--k1 1.5 --b 0.75"
)
candidates="$OUT/train-candidates.md"
{
    echo "| SciFact train (809 q) | nDCG@10 | MAP@1000 | R@100 | R@1000 | P@10 | MRR@10 |"
    echo "|---|---|---|---|---|---|---|"
} > "$candidates"
i=0
for c in "${CANDIDATES[@]}"; do
    IFS='|' read -r label index flags <<< "$c"
    i=$((i + 1))
    echo "== train candidate $i: $label" >&2
    # shellcheck disable=SC2086 # flags are words
    "$BINDIR/search" -i "$OUT/$index.index" --batch "$OUT/scifact-train.queries.tsv" \
        --format trec -k 1000 --literal $flags --tag "c$i" > "$OUT/train-c$i.trec"
    "$BINDIR/eval" -q "$train_qrels" "$OUT/train-c$i.trec" > "$OUT/train-c$i.eval"
    row "$label" "$OUT/train-c$i.eval" >> "$candidates"
done
cat "$candidates"
echo

# ---- 1b. BM25F on SciFact train: W x b_title, the best nDCG@10 chosen ----
bm25f="$OUT/train-bm25f.md"
{
    echo "| SciFact train (809 q) | nDCG@10 | MAP@1000 | R@100 | R@1000 | P@10 | MRR@10 |"
    echo "|---|---|---|---|---|---|---|"
    row "W = 0 (off: the defaults)" "$OUT/train-c1.eval"
} > "$bm25f"
BEST_W=0 BEST_BT=0.75
best=$(metric ndcg_cut_10 "$OUT/train-c1.eval")
for w in 0.5 1 2 3 4; do
    for bt in 0.3 0.75 1; do
        name="train-bm25f-$w-$bt"
        echo "== train BM25F: W=$w b_title=$bt" >&2
        "$BINDIR/search" -i "$OUT/scifact.index" --batch "$OUT/scifact-train.queries.tsv" \
            --format trec -k 1000 --literal --title-weight "$w" --title-b "$bt" \
            --tag "$name" > "$OUT/$name.trec"
        "$BINDIR/eval" -q "$train_qrels" "$OUT/$name.trec" > "$OUT/$name.eval"
        row "W = $w, b_title = $bt" "$OUT/$name.eval" >> "$bm25f"
        ndcg=$(metric ndcg_cut_10 "$OUT/$name.eval")
        if awk -v a="$ndcg" -v b="$best" 'BEGIN { exit !(a > b) }'; then
            best=$ndcg BEST_W=$w BEST_BT=$bt
        fi
    done
done
echo "chosen on train: W = $BEST_W, b_title = $BEST_BT (nDCG@10 $best)" >> "$bm25f"
cat "$bm25f"
echo

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
    evaluate "$name, bin/search defaults (porter, BM25 lucene k1=$K1 b=$B)" "$qrels" "$OUT/$name.bm25.trec" "$name.bm25"

    # The BM25F setting chosen on train above.
    "$BINDIR/search" -i "$OUT/$set.index" --batch "$OUT/$name.queries.tsv" --format trec \
        -k 1000 --literal --k1 "$K1" --b "$B" --title-weight "$BEST_W" --title-b "$BEST_BT" \
        --tag bm25f > "$OUT/$name.bm25f.trec"
    evaluate "$name, bin/search BM25F W=$BEST_W b_title=$BEST_BT" "$qrels" "$OUT/$name.bm25f.trec" \
        "$name.bm25f"

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
