/*
 * web_assets.h - the files of server/web/, compiled into the binary.
 *
 * The table is generated at build time by server/embed.c from
 * server/web/ (every .html file, into build/server/web_assets.c): index.html is served at
 * "/", any other NAME.html at "/NAME.html".  Read-only, shareable.
 */
#ifndef SE_SERVER_WEB_ASSETS_H
#define SE_SERVER_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *path; /* URL path */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} web_asset;

extern const web_asset web_assets[];
extern const size_t web_nassets;

#endif
