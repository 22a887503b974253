#ifndef CRESOLV_H
#define CRESOLV_H

#include <stddef.h>

/// Looks up the records of one type (16: TXT, 5: CNAME, 1: A) for `name` through the system's resolver library (libresolv),
/// with a private resolver state, so it is safe to call from several threads at once.
///
/// `server` is NULL for the servers in /etc/resolv.conf, or an IPv4 address (with `port`) to ask instead.
/// The records are written to `out`, one per line (a TXT record's strings joined), NUL-terminated.
///
/// Returns the number of records (0 when the name or the record type does not exist), -1 when the lookup failed
/// (timeout, server failure), -2 when `out` was too small.
int cresolv_query(const char *name, int type, const char *server, int port, char *out, size_t out_len);

#endif
