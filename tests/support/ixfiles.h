/*
 * ixfiles.h - the files of an index directory against its manifest.
 *
 * After a successful writer run an index directory must hold MANIFEST, LOCK
 * and exactly the files MANIFEST references: five per segment
 * (s<number>.tdx .doc .pos .len .sto) and the deletions file
 * s<number>_<generation>.del of each segment that has one.  Anything else
 * is debris a writer failed to remove.
 */
#ifndef TESTS_IXFILES_H
#define TESTS_IXFILES_H

#include <stddef.h>

/* 0 when dir holds exactly those files; -1 with the first problem (an
 * unreferenced file, a missing one, an unreadable manifest) and the
 * directory listing in why. */
int ixfiles_check_exact(const char *dir, char *why, size_t cap);

#endif
