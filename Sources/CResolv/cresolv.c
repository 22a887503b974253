#include "cresolv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

static int append(char *out, size_t out_len, size_t *used, const char *text, size_t length) {
    if (*used + length + 2 > out_len) return -1;
    memcpy(out + *used, text, length);
    *used += length;
    out[*used] = '\0';
    return 0;
}

int cresolv_query(const char *name, int type, const char *server, int port, char *out, size_t out_len) {
    struct __res_state state;
    unsigned char answer[16384];
    size_t used = 0;
    int found = 0;

    if (out_len == 0) return -2;
    out[0] = '\0';
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) return -1;
    state.retrans = 2;
    state.retry = 2;
    if (server != NULL) {
        struct sockaddr_in address;
        memset(&address, 0, sizeof address);
        address.sin_family = AF_INET;
        address.sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, server, &address.sin_addr) != 1) {
            res_nclose(&state);
            return -1;
        }
        state.nsaddr_list[0] = address;
        state.nscount = 1;
    }
    int length = res_nquery(&state, name, ns_c_in, type, answer, sizeof answer);
    if (length < 0) {
        int error = state.res_h_errno;
        res_nclose(&state);
        return (error == HOST_NOT_FOUND || error == NO_DATA) ? 0 : -1;
    }
    // res_nquery returns the answer's full length even when it copied only what fits (a large TCP answer): parse
    // only the bytes that are in the buffer.
    if (length > (int)sizeof answer) length = (int)sizeof answer;
    ns_msg message;
    if (ns_initparse(answer, length, &message) < 0) {
        res_nclose(&state);
        return -1;
    }
    int count = ns_msg_count(message, ns_s_an);
    for (int index = 0; index < count; index++) {
        ns_rr record;
        if (ns_parserr(&message, ns_s_an, index, &record) < 0) continue;
        if (ns_rr_type(record) != type) continue;
        const unsigned char *data = ns_rr_rdata(record);
        int data_length = ns_rr_rdlen(record);
        if (type == ns_t_txt) {
            // Character-strings: a length byte, then that many bytes; one record's strings are joined (RFC 7208 3.3).
            int offset = 0;
            while (offset < data_length) {
                int piece = data[offset];
                if (offset + 1 + piece > data_length) break;
                if (append(out, out_len, &used, (const char *)data + offset + 1, (size_t)piece) < 0) goto too_small;
                offset += 1 + piece;
            }
        } else if (type == ns_t_cname) {
            char target[NS_MAXDNAME];
            if (ns_name_uncompress(ns_msg_base(message), ns_msg_end(message), data, target, sizeof target) < 0) continue;
            if (append(out, out_len, &used, target, strlen(target)) < 0) goto too_small;
        } else if (type == ns_t_a) {
            char text[INET_ADDRSTRLEN];
            if (data_length != 4 || inet_ntop(AF_INET, data, text, sizeof text) == NULL) continue;
            if (append(out, out_len, &used, text, strlen(text)) < 0) goto too_small;
        } else {
            continue;
        }
        if (append(out, out_len, &used, "\n", 1) < 0) goto too_small;
        found++;
    }
    res_nclose(&state);
    return found;
too_small:
    res_nclose(&state);
    return -2;
}
