/*
 * LuceneBench.java - the Apache Lucene 8 peer of the speed benchmark
 * (bench/run_speed.sh; settings in bench/RESULTS.md).
 *
 *     java LuceneBench index CORPUS.tsv DIR
 *     java LuceneBench stats DIR
 *     java LuceneBench search [-k N] [--warmup-seconds S] [--max-warmup-seconds M]
 *                             [--queries-out FILE] [--serve] DIR TYPE=QUERIES...
 *
 * index: one document per TSV line (id TAB title TAB text): the id as a
 * stored, unindexed field, and title + " " + text as one TextField "body"
 * (positions, for phrases; not stored), analysed by EnglishAnalyzer with an
 * empty stop set (standard tokenizer, possessive filter, lower case, Porter
 * stemmer: stop words are indexed, as bin/index indexes them).  BM25
 * similarity (k1 1.2, b 0.75), a 256 MB RAM buffer (bin/index's default
 * batch budget), the SerialMergeScheduler so that indexing, like
 * bin/index, runs on one thread, no compound files (each kind of data in
 * its own file, as in a large merged segment anyway), and a final
 * forceMerge(1): one segment.
 *
 * stats: documents, terms, postings (sum of document frequencies) and
 * positions (sum of total term frequencies) of "body".
 *
 * search: an IndexSearcher over the one segment with BM25Similarity(1.2,
 * 0.75) and the query cache off (the warm-up runs the same queries, and a
 * cached filter clause would make the measured pass a cache lookup).
 * Queries go through the classic QueryParser with the same analyzer and
 * default operator OR, which reads the benchmark syntax natively (+a, -a,
 * "a b").  Top k through TopScoreDocCollector.create(k, k): with a total
 * hits threshold of k the collector tells the scorer, as soon as it holds
 * k hits, the minimum competitive score, so disjunctions use block-max
 * WAND and conjunctions skip blocks by their impacts.  (IndexSearcher's
 * search(query, k) counts the first 1,000 hits exactly before pruning.)
 * Before measuring, the query files are run again and again so that the JIT
 * has compiled the hot paths: for at least S seconds (default 20), then
 * until a pass over all the files is no longer getting faster (the best
 * pass time has not improved by 2% for five passes), but at most M seconds
 * (default 120).  On two cores shared with other work, 20 s proved too
 * short: Lucene's latencies kept halving for about a minute.  Then one
 * timed pass, per query: parsing and search.  Output lines as in
 * bench/speed_common.h.  With --serve, after the warm-up it prints "ready"
 * and then, for each line "TYPE<TAB>PATH" read from standard input, runs
 * one timed pass over the TYPE queries, writes their latencies to PATH,
 * prints the summary line and then "end", until end of input: the
 * benchmark alternates these passes with the other engines', type by type
 * (bench/speed_common.h).
 */
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SerialMergeScheduler;
import org.apache.lucene.index.Terms;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TopScoreDocCollector;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Version;

public final class LuceneBench {
    private static Analyzer analyzer() {
        return new EnglishAnalyzer(CharArraySet.EMPTY_SET);
    }

    private static int index(String tsv, String dir) throws IOException {
        IndexWriterConfig iwc = new IndexWriterConfig(analyzer());
        iwc.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        iwc.setSimilarity(new BM25Similarity(1.2f, 0.75f));
        iwc.setRAMBufferSizeMB(256);
        iwc.setMergeScheduler(new SerialMergeScheduler());
        iwc.setUseCompoundFile(false); /* per-kind files, so the postings file can be measured */
        long n = 0;
        try (IndexWriter w = new IndexWriter(FSDirectory.open(Paths.get(dir)), iwc);
             BufferedReader in = Files.newBufferedReader(Paths.get(tsv), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                int t1 = line.indexOf('\t'), t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
                if (t2 < 0) throw new IOException(tsv + ":" + (n + 1) + ": not id<TAB>title<TAB>text");
                Document d = new Document();
                d.add(new StoredField("id", line.substring(0, t1)));
                d.add(new TextField("body", line.substring(t1 + 1, t2) + " " + line.substring(t2 + 1),
                                    Field.Store.NO));
                w.addDocument(d);
                n++;
            }
            w.forceMerge(1);
            w.commit();
        }
        System.err.println("LuceneBench: indexed " + n + " documents with Lucene " + Version.LATEST);
        return 0;
    }

    private static int stats(String dir) throws IOException {
        try (DirectoryReader r = DirectoryReader.open(FSDirectory.open(Paths.get(dir)))) {
            long terms = 0, postings = 0, positions = 0;
            for (LeafReaderContext leaf : r.leaves()) {
                Terms t = leaf.reader().terms("body");
                if (t == null) continue;
                terms += t.size();
                postings += t.getSumDocFreq();
                positions += t.getSumTotalTermFreq();
            }
            System.out.printf(Locale.ROOT, "documents\t%d\nterms\t%d\npostings\t%d\npositions\t%d\n"
                                  + "segments\t%d\nversion\t%s\n",
                              r.numDocs(), terms, postings, positions, r.leaves().size(),
                              Version.LATEST);
        }
        return 0;
    }

    private static final class QuerySet {
        final String type;
        final List<String> queries;

        QuerySet(String type, List<String> queries) {
            this.type = type;
            this.queries = queries;
        }
    }

    /* Nearest-rank percentile of sorted v, as in bench/speed_common.h. */
    private static double percentile(double[] v, double p) {
        if (v.length == 0) return 0;
        int rank = (int) Math.ceil(p * v.length);
        rank = Math.max(1, Math.min(v.length, rank));
        return v[rank - 1];
    }

    private static int search(String[] args) throws Exception {
        int k = 10, i = 0;
        double warmupSeconds = 20, maxWarmupSeconds = 120;
        String dumpPath = null;
        boolean serve = false;
        for (; i < args.length && args[i].startsWith("-"); i++) {
            if (args[i].equals("-k")) k = Integer.parseInt(args[++i]);
            else if (args[i].equals("--warmup-seconds")) warmupSeconds = Double.parseDouble(args[++i]);
            else if (args[i].equals("--queries-out")) dumpPath = args[++i];
            else if (args[i].equals("--serve")) serve = true;
            else if (args[i].equals("--max-warmup-seconds"))
                maxWarmupSeconds = Double.parseDouble(args[++i]);
            else throw new IllegalArgumentException("unknown option " + args[i]);
        }
        String dir = args[i++];
        List<QuerySet> sets = new ArrayList<>();
        for (; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            List<String> qs = new ArrayList<>();
            for (String l : Files.readAllLines(Paths.get(args[i].substring(eq + 1)),
                                               StandardCharsets.UTF_8))
                if (!l.isEmpty()) qs.add(l);
            sets.add(new QuerySet(args[i].substring(0, eq), qs));
        }
        try (DirectoryReader r = DirectoryReader.open(FSDirectory.open(Paths.get(dir)))) {
            IndexSearcher s = new IndexSearcher(r);
            s.setSimilarity(new BM25Similarity(1.2f, 0.75f));
            s.setQueryCache(null);
            QueryParser qp = new QueryParser("body", analyzer());
            qp.setDefaultOperator(QueryParser.Operator.OR);

            /* Warm-up: whole passes over every query file until the JIT has
             * settled: at least warmupSeconds, then until the best pass time
             * has not improved by 2% for 5 passes, at most maxWarmupSeconds. */
            long start = System.nanoTime();
            int passes = 0, stale = 0;
            double first = 0, best = Double.MAX_VALUE, last = 0, elapsed;
            do {
                long p0 = System.nanoTime();
                for (QuerySet set : sets)
                    for (String q : set.queries) run(s, qp, q, k);
                last = (System.nanoTime() - p0) / 1e9;
                if (passes++ == 0) first = last;
                if (last < best * 0.98) {
                    best = last;
                    stale = 0;
                } else {
                    best = Math.min(best, last);
                    stale++;
                }
                elapsed = (System.nanoTime() - start) / 1e9;
            } while (elapsed < warmupSeconds || (stale < 5 && elapsed < maxWarmupSeconds));
            System.err.printf(Locale.ROOT,
                              "LuceneBench: warm-up %d passes in %.1f s: first %.3f s, best %.3f s, "
                                  + "last %.3f s%n",
                              passes, elapsed, first, best, last);

            PrintWriter dump = dumpPath == null ? null
                : new PrintWriter(Files.newBufferedWriter(Paths.get(dumpPath), StandardCharsets.UTF_8));
            if (!serve) {
                timedPass(s, qp, sets, k, dump);
            } else {
                /* One timed pass per line read, each answered by the summary
                 * lines and then "end", so that the benchmark can put this
                 * engine's passes between the other engines' while the JIT
                 * stays warm. */
                System.out.println("ready");
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null;) {
                    int tab = line.indexOf('\t');
                    List<QuerySet> only = new ArrayList<>();
                    for (QuerySet set : sets)
                        if (tab > 0 && set.type.equals(line.substring(0, tab))) only.add(set);
                    if (only.isEmpty() || tab + 1 >= line.length())
                        throw new IllegalArgumentException("bad request '" + line + "'");
                    PrintWriter passDump = new PrintWriter(
                        Files.newBufferedWriter(Paths.get(line.substring(tab + 1)), StandardCharsets.UTF_8));
                    timedPass(s, qp, only, k, passDump);
                    passDump.close();
                    System.out.println("end");
                    System.out.flush();
                }
            }
            if (dump != null) dump.close();
        }
        return 0;
    }

    /* One timed pass over every query set: per query, parsing and search. */
    private static void timedPass(IndexSearcher s, QueryParser qp, List<QuerySet> sets, int k,
                                  PrintWriter dump) throws Exception {
        for (QuerySet set : sets) {
            double[] lat = new double[set.queries.size()];
            int n = 0, nonempty = 0;
            long hits = 0;
            for (String q : set.queries) {
                long t0 = System.nanoTime();
                int h = run(s, qp, q, k);
                long t1 = System.nanoTime();
                lat[n++] = t1 - t0;
                if (dump != null)
                    dump.printf(Locale.ROOT, "lucene\t%s\t%s\t%.1f\t%d%n", set.type, q,
                                (t1 - t0) / 1e3, h);
                nonempty += h > 0 ? 1 : 0;
                hits += h;
            }
            double sum = 0;
            for (double v : lat) sum += v;
            Arrays.sort(lat);
            System.out.printf(Locale.ROOT, "lucene\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%d%n",
                              set.type, n, n > 0 ? sum / n / 1e3 : 0,
                              percentile(lat, 0.50) / 1e3, percentile(lat, 0.99) / 1e3,
                              sum > 0 ? n / (sum / 1e9) : 0, nonempty, hits);
        }
    }

    private static int run(IndexSearcher s, QueryParser qp, String q, int k) throws Exception {
        Query query = qp.parse(q);
        TopScoreDocCollector c = TopScoreDocCollector.create(k, k);
        s.search(query, c);
        return c.topDocs().scoreDocs.length;
    }

    public static void main(String[] args) throws Exception {
        int rc = 2;
        if (args.length == 3 && args[0].equals("index")) rc = index(args[1], args[2]);
        else if (args.length == 2 && args[0].equals("stats")) rc = stats(args[1]);
        else if (args.length >= 3 && args[0].equals("search"))
            rc = search(Arrays.copyOfRange(args, 1, args.length));
        else
            System.err.println("usage: LuceneBench index CORPUS.tsv DIR | stats DIR | "
                               + "search [-k N] [--warmup-seconds S] [--max-warmup-seconds M] "
                               + "[--queries-out FILE] [--serve] DIR TYPE=QUERIES...");
        System.exit(rc);
    }
}
