// libpg_query (Debian libpg-query-dev): PostgreSQL's own parser as a library. It ships no
// pkg-config file, so the module map links `pg_query` and this header includes it from /usr/include.
#include <pg_query.h>
