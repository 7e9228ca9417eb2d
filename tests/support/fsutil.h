/*
 * fsutil.h - small file-system helpers for tests: temporary directories
 * that are removed recursively afterwards, whole-file reads and writes, and
 * a textual listing of a directory for "did anything change?" checks.
 *
 * Functions return 0 on success and -1 with errno set on failure (or NULL
 * for those returning a pointer); none of them prints or aborts, so they
 * can be used from any test framework.
 */
#ifndef TESTS_FSUTIL_H
#define TESTS_FSUTIL_H

#include <stddef.h>

/* Create a fresh directory /tmp/<prefix>XXXXXX (under $TMPDIR when set).
 * Returns a malloc'd path or NULL. */
char *fs_mkdtemp(const char *prefix);

/* The same under /dev/shm when that is a writable directory (tests that
 * fsync a lot run much faster on tmpfs), else like fs_mkdtemp. */
char *fs_mkdtemp_fast(const char *prefix);

/* Remove path and everything under it (symbolic links are removed, not
 * followed).  Permissions are restored first, so files and directories a
 * test made unreadable go too.  A missing path is not an error. */
int fs_rm_rf(const char *path);

/* dir + "/" + name into buf.  -1 (ENAMETOOLONG) if it does not fit. */
int fs_join(char *buf, size_t cap, const char *dir, const char *name);

int fs_write_file(const char *path, const void *data, size_t len);
int fs_write_str(const char *path, const char *s);
int fs_copy_file(const char *from, const char *to);

/* The whole file, NUL-terminated (the terminator is not counted in *len;
 * len may be NULL).  Returns a malloc'd buffer or NULL. */
char *fs_read_file(const char *path, size_t *len);

/* Copy every regular file directly inside `from` into the existing
 * directory `to` (not recursive: other entries are skipped). */
int fs_copy_dir_files(const char *from, const char *to);

int fs_exists(const char *path); /* 1 if lstat succeeds */
int fs_is_dir(const char *path); /* 1 if stat says directory */

/* One line per entry of dir, sorted by name: "name size hash\n" for regular
 * files (hash = FNV-1a 64 of the content), "name/\n" for directories (not
 * descended), "name -> target\n" for symbolic links.  Files named in the
 * NULL-terminated list size_only (may be NULL) are listed as "name\n" only,
 * for files whose content is allowed to change (e.g. a lock file holding a
 * pid).  Returns a malloc'd string (empty for an empty directory) or NULL
 * if dir cannot be read. */
char *fs_dir_listing(const char *dir, const char *const *size_only);

/* Number of entries in dir other than "." and "..", or -1. */
int fs_count_entries(const char *dir);

#endif
