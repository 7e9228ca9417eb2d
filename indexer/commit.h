/*
 * commit.h - the index directory: preparing it, the writer lock, atomic
 * manifest commits and removal of files no manifest references.
 *
 * Commit protocol (docs/FORMAT.md, "Commits"): segment files are written
 * and fsynced first; then MANIFEST is replaced atomically (temporary file,
 * fsync, rename, fsync of the directory).  Only then are files that the new
 * manifest does not reference deleted.  A crash at any point leaves either
 * the old or the new generation complete; leftovers are removed by the next
 * writer, which is the only process allowed to delete anything.
 */
#ifndef SE_COMMIT_H
#define SE_COMMIT_H

#include "common/manifest.h"
#include "common/status.h"

#define INDEX_LOCK_NAME "LOCK"

/* Make sure dir can hold an index: create it if missing (*created = 1), or
 * check that it is empty or already an index.  Refuses (SE_INVALID) a
 * directory holding other files, so a typo cannot scatter files into it. */
int index_dir_prepare(const char *dir, int *created, se_error *err);

/* Take the exclusive writer lock (flock on dir/LOCK, which records our pid).
 * SE_LOCKED, with "index is being written by pid N", if another writer holds
 * it.  On success *fd is the descriptor to pass to index_lock_release. */
int index_lock_acquire(const char *dir, int *fd, se_error *err);
void index_lock_release(int fd);

/* Atomically make m the current generation of dir.  On failure *in_place
 * tells whether m nevertheless replaced the previous MANIFEST (only the
 * final directory fsync failed): m is then what readers see, but a crash
 * could still bring the previous generation back, so neither generation's
 * files may be deleted. */
int commit_manifest(const char *dir, const manifest *m, int *in_place, se_error *err);

/* Delete segment files and temporaries in dir that m does not reference
 * (the caller holds the lock).  Returns the number of files removed. */
int remove_unreferenced(const char *dir, const manifest *m);

#endif
