#!/usr/bin/env python3
"""nDCG@10 and Recall@100 of a TREC run against BEIR qrels (a stopgap until
bin/eval exists).  Usage: ndcg_at_10.py QRELS.tsv RUN.trec

nDCG@10 uses graded gains (rel) with log2(rank + 1) discounts, the ideal
ranking from the judgements, averaged over the judged queries (a judged query
with no hits counts as 0), as trec_eval's ndcg_cut_10 does."""
import math
import sys
from collections import defaultdict

qrels = defaultdict(dict)
with open(sys.argv[1]) as f:
    next(f)
    for line in f:
        q, d, r = line.rstrip("\r\n").split("\t")
        if int(r) > 0:
            qrels[q][d] = int(r)
run = defaultdict(list)
with open(sys.argv[2]) as f:
    for line in f:
        q, _, d, rank, score, _ = line.split()
        run[q].append((int(rank), d))
ndcg = recall = 0.0
for q, rel in qrels.items():
    docs = [d for _, d in sorted(run.get(q, []))]
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(docs[:10]))
    ideal = sorted(rel.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    ndcg += dcg / idcg if idcg else 0
    recall += len(set(docs[:100]) & set(rel)) / len(rel)
n = len(qrels)
print(f"queries {n}  nDCG@10 {ndcg / n:.4f}  R@100 {recall / n:.4f}")
