# Build, test and run the search engine.  `make help` lists the targets.
#
# Layout: common/ (shared by both sides) -> build/libcommon.a,
#         indexer/ -> build/libindexer.a,
#         searcher/ -> build/libsearcher.a,
#         all three + lib/ (the public API, include/libsearch.h) -> build/libsearch.a
#         (linked into bin/index and bin/search) and build/libsearch.so,
#         tests/unit/test_*.c and tests/e2e/test_*.c -> one Criterion binary each.

CC      ?= cc
BUILD   ?= build
BINDIR  ?= bin
PREFIX  ?= /usr/local
OPT     ?= -O2
SAN     ?=
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
             -Wvla -fno-strict-aliasing -I. $(SAN) $(CFLAGS)
LDFLAGS_ALL = $(SAN) $(LDFLAGS)
LIBS    = -lstemmer -lutf8proc -ljansson -lzstd -lz -lxxhash -lm -lpthread
TESTLIBS = -lcriterion

# Debian packages the build, the tests and `make run` need.
PKGS = make gcc libc6-dev libstemmer-dev zlib1g-dev libxxhash-dev libcriterion-dev \
       libutf8proc-dev libjansson-dev libzstd-dev zstd libmicrohttpd-dev valgrind

COMMON_SRC   := $(sort $(wildcard common/*.c))
INDEXER_SRC  := $(sort $(filter-out indexer/main.c,$(wildcard indexer/*.c)))
SEARCHER_SRC := $(sort $(filter-out searcher/main.c,$(wildcard searcher/*.c)))
TEST_SRC     := $(sort $(wildcard tests/unit/test_*.c tests/e2e/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_LIB   := $(BUILD)/libcommon.a
INDEXER_LIB  := $(BUILD)/libindexer.a
SEARCHER_LIB := $(BUILD)/libsearcher.a
LIBSEARCH_A  := $(BUILD)/libsearch.a
TEST_BINS    := $(patsubst %.c,$(BUILD)/%,$(TEST_SRC))
BINS         := $(BINDIR)/index $(BINDIR)/search $(BINDIR)/searchd

# Keep intermediate objects (tests/support) between runs.
.SECONDARY:

.PHONY: all deps run test unit-tests asan clean format format-check lint help
all: $(BINS)

help:
	@echo "make deps      install missing Debian packages (as root) or print the apt-get line"
	@echo "make           build bin/index, bin/search and bin/searchd"
	@echo "make run Q=... install, build, index corpus/ when stale, and search"
	@echo "make test      build and run every test (unit, property, end-to-end)"
	@echo "make asan      the same tests under AddressSanitizer + UBSan"
	@echo "make lib       build/libsearch.a and build/libsearch.so (include/libsearch.h)"
	@echo "make install PREFIX=/usr/local [DESTDIR=...]   programs, library, header,"
	@echo "               pkg-config file and man pages; make uninstall removes them"
	@echo "make web-test  the search page in headless Chromium (tests/web/)"
	@echo "make load-test wrk against bin/searchd while the index is updated (bench/load/)"
	@echo "make valgrind  the end-to-end tests with every spawned binary under valgrind"
	@echo "make format | format-check | lint"

deps:
	@missing=""; for p in $(PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: all packages present"; \
	elif [ "$$(id -u)" = 0 ]; then echo "deps: installing$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: missing packages; run as root:"; \
	  echo "  apt-get install -y$$missing"; exit 1; fi

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(INDEXER_LIB): $(call obj,$(INDEXER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(SEARCHER_LIB): $(call obj,$(SEARCHER_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BINDIR)/index: $(call obj,indexer/main.c) $(LIBSEARCH_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BINDIR)/search: $(call obj,searcher/main.c) $(LIBSEARCH_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(call obj,$(TEST_SUPPORT)) $(SEARCHER_LIB) $(INDEXER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -o $@ $< $(call obj,$(TEST_SUPPORT)) $(SEARCHER_LIB) $(INDEXER_LIB) \
	    $(COMMON_LIB) $(TEST_EXTRA_LIBS) $(LDFLAGS_ALL) $(LIBS) $(TESTLIBS)

# Every test binary runs from the repository root; end-to-end tests find the
# binaries through SE_BIN_DIR and the shared data through SE_DATA_DIR.
SE_DATA_DIR ?= $(abspath ../shared/data)
SE_SEEDS_DIR ?= $(abspath ../shared/seeds)
TEST_ENV = SE_BIN_DIR=$(abspath $(BINDIR)) SE_DATA_DIR=$(SE_DATA_DIR) SE_SEEDS_DIR=$(SE_SEEDS_DIR) \
           SE_BUILD_DIR=$(BUILD) SE_SAN_FLAGS="$(SAN)"

# Tests need the -dev packages too: `deps` installs them first when run as root.
test: deps
	@$(MAKE) --no-print-directory run-tests

.PHONY: run-tests
run-tests: $(BINS) $(TEST_BINS)
	@fail=0; pass=0; for t in $(TEST_BINS); do \
	  echo "== $$t"; \
	  if $(TEST_ENV) $(TEST_RUNNER) $$t $(TEST_ARGS); then pass=$$((pass+1)); else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; echo "binaries: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	$(MAKE) BUILD=build-asan BINDIR=build-asan/bin OPT=-O1 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

# ---- valgrind: `make valgrind` ----
# The end-to-end tests, with every bin/index and bin/search they start run
# under memcheck: tests/support/run.c puts SE_RUN_WRAPPER in front of each
# program of SE_BIN_DIR and multiplies its time limit by
# SE_RUN_TIMEOUT_SCALE.  Each process writes its report to
# $(VALGRIND_OUT)/<pid>.log (empty when clean, thanks to -q), so an error is
# found even in a run whose expected exit status is 1 (warnings, no hits),
# which is also the status --error-exitcode gives.  The scale knobs shrink
# the corpora of the slowest tests; every e2e binary still runs.  The test
# binaries themselves are not under valgrind (the unit tests run in-process
# under `make asan`).  --ignore-warnings: a test that logs a warning (say,
# that a race it looks for could not be set up under valgrind's slow start)
# still passes on its assertions.
VALGRIND_OUT   ?= build/valgrind
VALGRIND_SCALE ?= 0.1
VALGRIND_CMD    = valgrind -q --error-exitcode=1 --leak-check=full \
                  --errors-for-leak-kinds=definite,indirect --vgdb=no \
                  --log-file=$(abspath $(VALGRIND_OUT))/%p.log
VALGRIND_ENV    = SE_RUN_WRAPPER="$(VALGRIND_CMD)" SE_RUN_TIMEOUT_SCALE=50 \
                  SE_E2E_SCALE=$(VALGRIND_SCALE) SE_CRASH_TRIALS=3 SE_HOSTILE_SCALE=$(VALGRIND_SCALE)
E2E_BINS       := $(filter $(BUILD)/tests/e2e/%,$(TEST_BINS))

.PHONY: valgrind
valgrind:
	@$(MAKE) --no-print-directory deps PKGS="$(PKGS) valgrind"
	@$(MAKE) --no-print-directory $(BINS) $(E2E_BINS)
	@rm -rf $(VALGRIND_OUT) && mkdir -p $(VALGRIND_OUT) && chmod 1777 $(VALGRIND_OUT)
	@start=$$(date +%s); fail=0; pass=0; for t in $(E2E_BINS); do \
	  echo "== valgrind: $$t"; \
	  if $(TEST_ENV) $(VALGRIND_ENV) $$t -j1 --ignore-warnings $(TEST_ARGS); then pass=$$((pass+1)); \
	  else fail=$$((fail+1)); echo "FAILED: $$t"; fi; \
	done; \
	runs=$$(find $(VALGRIND_OUT) -name '*.log' | wc -l); \
	bad=$$(find $(VALGRIND_OUT) -name '*.log' -size +0 | sort); \
	for f in $$bad; do echo "--- $$f"; head -n 60 $$f; done; \
	nbad=$$(echo "$$bad" | grep -c . || true); \
	echo "valgrind: $$runs runs of bin/index and bin/search, $$nbad with errors or leaks;" \
	     "test binaries: $$pass passed, $$fail failed; $$(( $$(date +%s) - start )) s"; \
	[ $$fail -eq 0 ] && [ $$nbad -eq 0 ]

# Index corpus/ only when an article or the indexer is newer than the index.
INDEX_DIR ?= index
CORPUS_FILES := $(shell find corpus -type f \( -name '*.txt' -o -name '*.md' \) 2>/dev/null)
$(INDEX_DIR)/MANIFEST: $(CORPUS_FILES) $(BINDIR)/index
	$(BINDIR)/index -i $(INDEX_DIR) corpus/

Q ?= ethical responsibility
run: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory $(INDEX_DIR)/MANIFEST
	$(BINDIR)/search -i $(INDEX_DIR) "$(Q)"

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(C_FILES)
format-check:
	clang-format --dry-run --Werror $(C_FILES)
lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr --suppress=missingIncludeSystem -I. common indexer searcher lib include server
	clang-tidy --quiet $(COMMON_SRC) $(INDEXER_SRC) $(SEARCHER_SRC) $(LIB_SRC) $(SERVER_ALL_SRC) \
	    -- -std=c11 -D_GNU_SOURCE -I.

clean:
	rm -rf build build-asan bin

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- the library and installation: `make lib`, `make install` ----
# build/libsearch.a holds every engine object (bin/index and bin/search link
# it, and may use internal headers besides the public one).  The shared
# library is built from the same sources compiled again with -fPIC and
# -fvisibility=hidden into $(BUILD)/pic, so that only the functions marked
# SRCH_API in include/libsearch.h are exported (lib/libsearch.map also
# versions them).  Its soname carries the major version of common/version.h.
LIB_SRC     := $(sort $(wildcard lib/*.c))
ENGINE_SRC  := $(COMMON_SRC) $(INDEXER_SRC) $(SEARCHER_SRC) $(LIB_SRC)
LIB_VERSION := $(shell sed -n 's/^\#define SE_VERSION "\(.*\)"/\1/p' common/version.h)
LIB_MAJOR   := $(firstword $(subst ., ,$(LIB_VERSION)))
LIB_SONAME  := libsearch.so.$(LIB_MAJOR)
LIBSEARCH_SO := $(BUILD)/libsearch.so.$(LIB_VERSION)
LIB_OUTPUTS := $(LIBSEARCH_A) $(LIBSEARCH_SO) $(BUILD)/$(LIB_SONAME) $(BUILD)/libsearch.so
pic_obj = $(patsubst %.c,$(BUILD)/pic/%.o,$(1))
# Installed pkg-config and man pages need man-db (man) and pkg-config.
PKGS += pkg-config man-db

.PHONY: lib install uninstall
lib: $(LIB_OUTPUTS)
all: lib
# test_install installs the library; test_cli runs every program, bin/eval too.
run-tests: $(LIB_OUTPUTS) $(BINDIR)/eval

$(LIBSEARCH_A): $(call obj,$(ENGINE_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

$(LIBSEARCH_SO): $(call pic_obj,$(ENGINE_SRC)) lib/libsearch.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script=lib/libsearch.map \
	    -Wl,--no-undefined $(LDFLAGS_ALL) -o $@ $(call pic_obj,$(ENGINE_SRC)) $(LIBS)
$(BUILD)/$(LIB_SONAME) $(BUILD)/libsearch.so: $(LIBSEARCH_SO)
	ln -sf $(notdir $<) $@

# The tests of the public API link the archive (test_alloc_faults also
# wraps the allocator, see above).
$(BUILD)/tests/unit/test_libsearch: $(LIBSEARCH_A)
$(BUILD)/tests/unit/test_libsearch: TEST_EXTRA_LIBS = $(LIBSEARCH_A)
$(BUILD)/tests/unit/test_alloc_faults: $(LIBSEARCH_A)
$(BUILD)/tests/unit/test_alloc_faults: TEST_EXTRA_LIBS += $(LIBSEARCH_A)

LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MAN1         := docs/man/index.1 docs/man/search.1
MAN3         := docs/man/libsearch.3
LIBS_PRIVATE := $(LIBS)

install: $(BINS) $(LIB_OUTPUTS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(LIBSEARCH_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIBSEARCH_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIBSEARCH_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libsearch.so
	install -m 0644 include/libsearch.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(LIB_VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	    lib/libsearch.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libsearch.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libsearch.pc
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/index $(DESTDIR)$(PREFIX)/bin/search $(DESTDIR)$(PREFIX)/bin/searchd \
	    $(DESTDIR)$(LIBDIR)/libsearch.a $(DESTDIR)$(LIBDIR)/$(notdir $(LIBSEARCH_SO)) \
	    $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libsearch.so \
	    $(DESTDIR)$(INCLUDEDIR)/libsearch.h $(DESTDIR)$(PKGCONFIGDIR)/libsearch.pc \
	    $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1))) \
	    $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))

# ---- benchmark tools ----
$(BUILD)/bench/wiki_paragraphs: bench/wiki_paragraphs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< -ljansson

WIKI ?= $(SE_DATA_DIR)/enwiki-2015-first30k/articles.jsonl.zst
WIKI_PARAS ?= bench/out/enwiki-paragraphs.jsonl
$(WIKI_PARAS): $(BUILD)/bench/wiki_paragraphs
	@mkdir -p $(dir $@)
	zstd -dc $(WIKI) | $(BUILD)/bench/wiki_paragraphs > $@.tmp && mv $@.tmp $@

.PHONY: wiki-index
# Index the 1.2M Wikipedia paragraphs (the memory-budget check of the README).
wiki-index: $(BINS) $(WIKI_PARAS)
	rm -rf bench/out/wiki-index
	/usr/bin/time -v $(BINDIR)/index -i bench/out/wiki-index $(WIKI_PARAS) 2> bench/out/wiki-index.log; \
	    status=$$?; tail -n 40 bench/out/wiki-index.log; exit $$status

# ---- ranking evaluation: bin/eval and `make eval` (bench/EVAL.md) ----
# bench/trec_eval_metrics.c -> build/libeval.a, linked into bin/eval, the
# bench tools and tests/unit/test_eval (through TEST_EXTRA_LIBS, which is
# empty for every other test).
EVAL_LIB  := $(BUILD)/libeval.a
EVAL_OUT  ?= bench/out/eval
EVAL_PKGS  = libsqlite3-dev
all: $(BINDIR)/eval

$(EVAL_LIB): $(call obj,bench/trec_eval_metrics.c)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BINDIR)/eval: $(call obj,bench/eval_main.c) $(EVAL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lm
$(BUILD)/tests/unit/test_eval: $(EVAL_LIB)
$(BUILD)/tests/unit/test_eval: TEST_EXTRA_LIBS = $(EVAL_LIB)
# The allocation-failure test routes the engine's allocations through its
# own wrappers.
$(BUILD)/tests/unit/test_alloc_faults: TEST_EXTRA_LIBS += \
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=aligned_alloc
# The I/O fault test does the same with the file system calls.
$(BUILD)/tests/unit/test_io_faults: TEST_EXTRA_LIBS = \
    -Wl,--wrap=read,--wrap=write,--wrap=pread,--wrap=pwrite,--wrap=fsync

$(BUILD)/bench/beir_batch: $(call obj,bench/beir_batch.c) $(EVAL_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ljansson -lm
$(BUILD)/bench/fts5_run: $(call obj,bench/peers/fts5_run.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ljansson -lsqlite3

.PHONY: eval eval-deps
eval-deps:
	@$(MAKE) --no-print-directory deps PKGS="$(PKGS) $(EVAL_PKGS)"
# Index SciFact and Cranfield, run the judged queries through bin/search and
# SQLite FTS5, evaluate both with bin/eval (tables in $(EVAL_OUT)/summary.md).
eval: eval-deps
	@$(MAKE) --no-print-directory $(BINS) $(BINDIR)/eval $(BUILD)/bench/beir_batch \
	    $(BUILD)/bench/fts5_run
	BINDIR=$(BINDIR) TOOLDIR=$(BUILD)/bench DATA=$(SE_DATA_DIR) OUT=$(EVAL_OUT) \
	    bench/run_eval.sh

# ---- fuzzing: `make fuzz FUZZ_SECONDS=N` (tests/fuzz/README.md) ----
# Every tests/fuzz/fuzz_<target>.c is a libFuzzer target, built with clang,
# AddressSanitizer and UBSan against the project's sources compiled into
# $(FUZZ_BUILD)/obj with the same sanitizers and coverage instrumentation.
# `make fuzz` replays each target's saved crash inputs
# (tests/fuzz/regressions/<target>/, except open-* ones: bugs not fixed yet),
# then fuzzes it for FUZZ_SECONDS from its seeds in tests/fuzz/corpus/<target>/
# (the index target also from seeds it generates at start-up).  New inputs go
# to $(FUZZ_BUILD)/corpus/<target>/ and crashes to
# $(FUZZ_BUILD)/artifacts/<target>/, never into the tree.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 30
FUZZ_BUILD   ?= build-fuzz
FUZZ_NICE    ?= nice -n 19
FUZZ_ARGS    ?=
FUZZ_TARGETS ?= analyzer query jsonl codec snippet index
FUZZ_PKGS     = clang-14 libclang-rt-14-dev
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -I. $(FUZZ_SAN)
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(COMMON_SRC) $(INDEXER_SRC) $(SEARCHER_SRC))
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_HDRS    := $(wildcard tests/fuzz/*.h common/*.h indexer/*.h searcher/*.h)

.PHONY: fuzz fuzz-deps fuzz-build
fuzz-deps:
	@$(MAKE) --no-print-directory deps PKGS="$(PKGS) $(FUZZ_PKGS)"

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# The targets themselves must also be warning-free (they are compiled into
# the normal test build by tests/unit/test_fuzz_regressions.c).
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) $(FUZZ_HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS)

fuzz-build: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-build
	@fail=""; for t in $(FUZZ_TARGETS); do \
	  bin=$(FUZZ_BUILD)/fuzz_$$t; out=$(FUZZ_BUILD)/corpus/$$t; art=$(FUZZ_BUILD)/artifacts/$$t/; \
	  seeds=$(FUZZ_BUILD)/seeds/$$t; rm -rf $$seeds; mkdir -p $$out $$art $$seeds; \
	  regs=$$(find tests/fuzz/regressions/$$t -type f ! -name 'open-*' 2>/dev/null | sort); \
	  if [ -n "$$regs" ]; then \
	    echo "== fuzz_$$t: replaying $$(echo "$$regs" | wc -l) regression inputs"; \
	    $$bin $$regs > $(FUZZ_BUILD)/replay-$$t.log 2>&1 || \
	      { tail -n 40 $(FUZZ_BUILD)/replay-$$t.log; fail="$$fail $$t(regressions)"; }; \
	  fi; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  SE_FUZZ_INDEX_SEEDS=$$seeds $(FUZZ_NICE) $$bin -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	    -print_final_stats=1 -artifact_prefix=$$art $(FUZZ_ARGS) $$out tests/fuzz/corpus/$$t $$seeds \
	    > $(FUZZ_BUILD)/fuzz-$$t.log 2>&1 || fail="$$fail $$t"; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec)|ERROR|SUMMARY' \
	    $(FUZZ_BUILD)/fuzz-$$t.log | tail -n 6; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: FAILED:$$fail (logs and crash inputs in $(FUZZ_BUILD)/)"; exit 1; fi; \
	echo "fuzz: every target ran $(FUZZ_SECONDS) s without a crash"

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)

# ---- speed benchmark: `make bench`, `make bench-quick` (bench/RESULTS.md) ----
# Query latency, indexing and index size of this engine beside Apache
# Lucene 8, Xapian 1.4 and SQLite FTS5 (installed from Debian when run as
# root; a peer that cannot be built is skipped), plus the hot-loop
# micro-benchmark, all in one run on the Wikipedia paragraphs
# (bench/run_speed.sh).  `make bench` indexes all 1.2M paragraphs and
# appends a section to bench/RESULTS.md; `make bench-quick` uses the first
# 100k and fewer queries (about two minutes) and writes
# $(BENCH_OUT)-quick/RESULTS.md unless BENCH_RESULTS says otherwise.
# Nothing here is part of `make test`.
BENCH_OUT     ?= bench/out/speed
BENCH_PKGS     = liblucene8-java default-jdk-headless libxapian-dev libsqlite3-dev
BENCH_TOOLS   := $(BUILD)/bench/speed_prep $(BUILD)/bench/bench_search $(BUILD)/bench/bench_codec
BENCH_PEERS   := $(BUILD)/bench/lucene/LuceneBench.class $(BUILD)/bench/xapian_bench \
                 $(BUILD)/bench/fts5_bench
LUCENE_CP      = $(subst $(eval) ,:,$(wildcard $(foreach m,core analyzers-common queryparser queries,/usr/share/java/lucene-$(m)-8*.jar)))

$(BUILD)/bench/speed_prep: $(call obj,bench/speed_prep.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -ljansson
$(BUILD)/bench/bench_search: $(call obj,bench/bench_search.c) $(SEARCHER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
# bench_codec.c compiles common/codec.c into itself (see its comment).
$(BUILD)/bench/bench_codec: $(call obj,bench/bench_codec.c) $(SEARCHER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/bench/fts5_bench: $(call obj,bench/peers/fts5_bench.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ -lsqlite3 -lm
$(BUILD)/bench/xapian_bench: bench/peers/xapian_bench.cc bench/speed_common.h
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(OPT) -g -Wall -Wextra -Werror -I. $$(xapian-config --cxxflags) \
	    -o $@ $< $$(xapian-config --libs) $(LDFLAGS)
$(BUILD)/bench/lucene/LuceneBench.class: bench/peers/LuceneBench.java
	@mkdir -p $(dir $@)
	@test -n "$(LUCENE_CP)" || { echo "no Lucene 8 jars in /usr/share/java"; exit 1; }
	javac -Xlint:all -Werror -cp $(LUCENE_CP) -d $(dir $@) $<

.PHONY: bench bench-quick bench-deps bench-build
# The engine's own packages are required; the peers' are installed when
# possible (as root) and otherwise only reported.
bench-deps:
	@$(MAKE) --no-print-directory deps
	-@$(MAKE) --no-print-directory deps PKGS="$(BENCH_PKGS)"
bench-build: bench-deps
	@$(MAKE) --no-print-directory $(BINS) $(BENCH_TOOLS) $(WIKI_PARAS)
	@for t in $(BENCH_PEERS); do $(MAKE) --no-print-directory $$t || \
	    echo "bench: cannot build $$t; that peer is skipped"; done

BENCH_RUN = BINDIR=$(BINDIR) TOOLDIR=$(BUILD)/bench CORPUS=$(WIKI_PARAS) DATA=$(SE_DATA_DIR) \
            LUCENE_CP="$(LUCENE_CP)" CC="$(CC)" bench/run_speed.sh
bench: bench-build
	MODE=full DOCS=0 NQ=0 NTREC=1000 FTS5_MAX=100 LUCENE_WARMUP=60 LUCENE_WARMUP_MAX=120 \
	    CODEC_MS=30 OUT=$(BENCH_OUT)-full RESULTS=$(or $(BENCH_RESULTS),bench/RESULTS.md) \
	    COMMAND="make bench" $(BENCH_RUN)
bench-quick: bench-build
	MODE=quick DOCS=100000 NQ=50 NTREC=200 FTS5_MAX=0 LUCENE_WARMUP=20 LUCENE_WARMUP_MAX=30 \
	    CODEC_MS=10 OUT=$(BENCH_OUT)-quick \
	    RESULTS=$(or $(BENCH_RESULTS),$(BENCH_OUT)-quick/RESULTS.md) COMMAND="make bench-quick" \
	    $(BENCH_RUN)

# ---- search server: bin/searchd (server/, README "Server") ----
# server/*.c except main.c and embed.c -> $(BUILD)/libserver.a.  The page
# server/web/*.html is compiled in: $(BUILD)/server/embed (built from
# server/embed.c) writes it as a C array into $(BUILD)/server/web_assets.c.
# `make web-test` drives the page in Debian's headless Chromium
# (tests/web/); `make load-test` runs wrk against searchd while bin/index
# keeps updating the index (bench/load/, results in bench/LOAD.md).
# Neither is part of `make test`; tests/e2e/test_searchd.c is.
SERVER_SRC     := $(sort $(filter-out server/main.c server/embed.c,$(wildcard server/*.c)))
SERVER_ALL_SRC := $(SERVER_SRC) server/main.c
SERVER_LIB     := $(BUILD)/libserver.a
SERVER_WEB     := $(sort $(wildcard server/web/*.html))
SERVER_LIBS     = -lmicrohttpd
WEB_TEST_PKGS   = chromium chromium-driver python3
LOAD_TEST_PKGS  = wrk
LOAD_SECONDS   ?= 60
LOAD_DOCS      ?= 100000
LOAD_OUT       ?= bench/out/load

$(BUILD)/server/embed: server/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $<
$(BUILD)/server/web_assets.c: $(SERVER_WEB) $(BUILD)/server/embed
	$(BUILD)/server/embed $@.tmp $(SERVER_WEB) && mv $@.tmp $@
$(BUILD)/obj/server/web_assets.o: $(BUILD)/server/web_assets.c server/web_assets.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
$(SERVER_LIB): $(call obj,$(SERVER_SRC)) $(BUILD)/obj/server/web_assets.o
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BINDIR)/searchd: $(call obj,server/main.c) $(SERVER_LIB) $(SEARCHER_LIB) $(COMMON_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SERVER_LIBS) $(LIBS)
# Unit tests of server modules (tests/unit/test_server_*.c) link the server
# library too.
$(filter $(BUILD)/tests/unit/test_server_%,$(TEST_BINS)): $(SERVER_LIB)
$(BUILD)/tests/unit/test_server_%: TEST_EXTRA_LIBS = $(SERVER_LIB) $(SEARCHER_LIB) \
    $(COMMON_LIB) $(SERVER_LIBS)

.PHONY: web-test load-test
web-test:
	@$(MAKE) --no-print-directory deps PKGS="$(PKGS) $(WEB_TEST_PKGS)"
	@$(MAKE) --no-print-directory $(BINS)
	BINDIR=$(abspath $(BINDIR)) SEEDS=$(SE_SEEDS_DIR) OUT=$(abspath $(BUILD))/web-test \
	    python3 tests/web/test_page.py
load-test:
	@$(MAKE) --no-print-directory deps PKGS="$(PKGS) $(LOAD_TEST_PKGS)"
	@$(MAKE) --no-print-directory $(BINS)
	BINDIR=$(abspath $(BINDIR)) DATA=$(SE_DATA_DIR) WIKI_PARAS=$(WIKI_PARAS) \
	    SECONDS_=$(LOAD_SECONDS) DOCS=$(LOAD_DOCS) OUT=$(LOAD_OUT) bench/load/run.sh
