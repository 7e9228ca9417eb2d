/*
 * xapian_bench.cc - the Xapian 1.4 peer of the speed benchmark
 * (bench/run_speed.sh; settings in bench/RESULTS.md).
 *
 *     xapian_bench index CORPUS.tsv TMPDIR DB
 *     xapian_bench stats DB
 *     xapian_bench search [-k N] [--warmup N] [--queries-out FILE] [--serve] DB TYPE=QUERIES...
 *
 * index: a glass database built in TMPDIR, one document per TSV line
 * (`id<TAB>title<TAB>text`), through a TermGenerator with the English
 * (Snowball, Porter2) stemmer and the STEM_ALL strategy: only stemmed
 * terms are indexed, with positions, and no stop words are dropped, which
 * is the same analysis as bin/index's (the default STEM_SOME would index
 * every word twice, unstemmed with positions and stemmed without).  Title
 * and text are one field, the text one position after the title; the
 * document data is the id.  The batch size is Xapian's own
 * (XAPIAN_FLUSH_THRESHOLD documents, set by the caller).  After the final
 * commit the database is compacted into DB (one level per table, full
 * blocks), Xapian's equivalent of merging to one segment.
 *
 * stats: documents, terms, postings (sum of term frequencies) and
 * positions (sum of collection frequencies).
 *
 * search: a QueryParser with the same stemmer and strategy, default
 * operator OR, FLAG_PHRASE | FLAG_LOVEHATE (so `+a +b` is an AND, `+a b`
 * an AND_MAYBE, `+a -b` an AND_NOT and `"a b"` a phrase), and an Enquire
 * weighted by BM25Weight(k1 = 1.2, k2 = 0, k3 = 1, b = 0.75,
 * min_normlen = 0.5) asked for the top k.  Timed per query: parsing,
 * set_query and get_mset.  Output lines as in bench/speed_common.h.
 */
#include <xapian.h>

#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench/speed_common.h"

static int do_index(const char *tsv, const char *tmp, const char *out)
{
    std::ifstream in(tsv);
    if (!in) {
        std::perror(tsv);
        return 1;
    }
    Xapian::WritableDatabase db(tmp, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(Xapian::Stem("english"));
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
    std::string line;
    unsigned long n = 0;
    while (std::getline(in, line)) {
        size_t t1 = line.find('\t'), t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) {
            std::fprintf(stderr, "xapian_bench: %s:%lu: not id<TAB>title<TAB>text\n", tsv, n + 1);
            return 1;
        }
        Xapian::Document doc;
        tg.set_document(doc);
        tg.index_text(Xapian::Utf8Iterator(line.data() + t1 + 1, t2 - t1 - 1));
        tg.increase_termpos();
        tg.index_text(Xapian::Utf8Iterator(line.data() + t2 + 1, line.size() - t2 - 1));
        doc.set_data(line.substr(0, t1));
        db.add_document(doc);
        n++;
    }
    db.commit();
    db.compact(out);
    db.close();
    std::fprintf(stderr, "xapian_bench: indexed %lu documents\n", n);
    return 0;
}

static int do_stats(const char *path)
{
    Xapian::Database db(path);
    unsigned long long terms = 0, postings = 0, positions = 0;
    for (Xapian::TermIterator t = db.allterms_begin(); t != db.allterms_end(); ++t) {
        terms++;
        postings += t.get_termfreq();
        positions += db.get_collection_freq(*t);
    }
    std::printf("documents\t%llu\nterms\t%llu\npostings\t%llu\npositions\t%llu\n",
                (unsigned long long)db.get_doccount(), terms, postings, positions);
    return 0;
}

struct qset {
    std::string type;
    speed_queries qs;
};

static int do_search(int argc, char **argv)
{
    int k = 10;
    long warmup = 1;
    const char *dump_path = nullptr;
    int serve = 0;
    static const struct option longopts[] = {{"warmup", required_argument, nullptr, 'w'},
                                             {"queries-out", required_argument, nullptr, 'q'},
                                             {"serve", no_argument, nullptr, 's'},
                                             {nullptr, 0, nullptr, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "k:", longopts, nullptr)) != -1) {
        if (c == 'k')
            k = std::atoi(optarg);
        else if (c == 'w')
            warmup = std::strtol(optarg, nullptr, 10);
        else if (c == 'q')
            dump_path = optarg;
        else if (c == 's')
            serve = 1;
        else
            return 2;
    }
    if (optind + 2 > argc || k <= 0) return 2;
    FILE *dump = speed_open_dump(dump_path);
    Xapian::Database db(argv[optind++]);
    std::vector<qset> sets;
    size_t maxq = 1;
    for (int i = optind; i < argc; i++) {
        char *type, *path;
        if (speed_split_arg(argv[i], &type, &path) != 0) return 2;
        qset s;
        s.type = type;
        if (speed_read_queries(path, &s.qs) != 0) return 1;
        if (s.qs.n > maxq) maxq = s.qs.n;
        sets.push_back(s);
    }

    Xapian::QueryParser qp;
    qp.set_stemmer(Xapian::Stem("english"));
    qp.set_stemming_strategy(Xapian::QueryParser::STEM_ALL);
    qp.set_default_op(Xapian::Query::OP_OR);
    const unsigned flags = Xapian::QueryParser::FLAG_PHRASE | Xapian::QueryParser::FLAG_LOVEHATE;
    Xapian::Enquire enq(db);
    enq.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));

    auto run = [&](const char *q) -> size_t {
        enq.set_query(qp.parse_query(q, flags));
        Xapian::MSet m = enq.get_mset(0, (Xapian::doccount)k);
        return m.size();
    };

    for (long w = 0; w < warmup; w++)
        for (auto &s : sets)
            for (size_t j = 0; j < s.qs.n; j++) run(s.qs.q[j]);

    std::vector<double> lat(maxq);
    int failed = 0;
    auto pass = [&](qset &s, FILE *out) {
        size_t n = 0, nonempty = 0;
        unsigned long long hits = 0;
        for (size_t j = 0; j < s.qs.n; j++) {
            try {
                double t0 = speed_now_ns();
                size_t h = run(s.qs.q[j]);
                double t1 = speed_now_ns();
                lat[n++] = t1 - t0;
                speed_dump(out, "xapian", s.type.c_str(), s.qs.q[j], t1 - t0, h);
                nonempty += h > 0;
                hits += h;
            } catch (const Xapian::Error &e) {
                std::fprintf(stderr, "xapian_bench: %s query '%s': %s\n", s.type.c_str(), s.qs.q[j],
                             e.get_description().c_str());
                failed = 1;
            }
        }
        speed_report(stdout, "xapian", s.type.c_str(), lat.data(), n, nonempty, hits);
    };
    if (serve) {
        std::printf("ready\n");
        std::fflush(stdout);
        char line[8192], *type = nullptr, *path = nullptr;
        int r;
        while ((r = speed_serve_next(line, sizeof line, &type, &path)) != 0) {
            qset *found = nullptr;
            for (auto &s : sets)
                if (r > 0 && s.type == type) found = &s;
            if (!found) {
                std::fprintf(stderr, "xapian_bench: bad request '%s'\n", line);
                failed = 1;
                break;
            }
            FILE *out = speed_open_dump(path);
            pass(*found, out);
            std::fclose(out);
            std::printf("end\n");
            std::fflush(stdout);
        }
    } else {
        for (auto &s : sets) pass(s, dump);
    }
    for (auto &s : sets) speed_free_queries(&s.qs);
    if (dump) std::fclose(dump);
    return failed;
}

int main(int argc, char **argv)
{
    try {
        if (argc == 5 && std::strcmp(argv[1], "index") == 0)
            return do_index(argv[2], argv[3], argv[4]);
        if (argc == 3 && std::strcmp(argv[1], "stats") == 0) return do_stats(argv[2]);
        if (argc >= 4 && std::strcmp(argv[1], "search") == 0) return do_search(argc - 1, argv + 1);
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "xapian_bench: %s\n", e.get_description().c_str());
        return 1;
    }
    std::fprintf(stderr, "usage: xapian_bench index CORPUS.tsv TMPDIR DB\n"
                         "       xapian_bench stats DB\n"
                         "       xapian_bench search [-k N] [--warmup N] [--queries-out FILE] [--serve] DB "
                         "TYPE=QUERIES...\n");
    return 2;
}
