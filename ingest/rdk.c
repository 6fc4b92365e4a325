/*
 * rdk.c - librdkafka plumbing shared by the consumer, the producer and the
 * mock cluster: confs from property lists, the log bridge, and headers in
 * kcat's JSON form (the form a replayed kcat -J dump carries, so that a
 * live record and its replay store the same headers text).
 */
#include "ingest/rdk.h"
#include "common/buf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ingest_kafka_is_secret(const char *name)
{
    static const char *const exact[] = {"sasl.jaas.config", "ssl.key.pem", "ssl_key",
                                        "sasl.oauthbearer.config"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcasecmp(name, exact[i]) == 0)
            return 1;
    for (const char *p = name; *p; p++)
        if (strncasecmp(p, "password", 8) == 0 || strncasecmp(p, "secret", 6) == 0)
            return 1;
    return 0;
}

/* syslog levels: 0-3 error, 4 warning, 5-6 notice/info, 7 debug. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const ingest_rdk_base_t *base = rd_kafka_opaque(rk);
    if (!base)
        return;
    am_log_level_t l = level <= 3   ? AM_LOG_ERROR
                       : level == 4 ? AM_LOG_WARN
                       : level <= 6 ? AM_LOG_INFO
                                    : AM_LOG_DEBUG;
    am_log(base->log, l, "librdkafka", "client", rd_kafka_name(rk), "fac", fac, "detail", buf,
           NULL);
}

int ingest_rdk_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    if (ingest_kafka_is_secret(name))
        am_errf(err, errlen, "kafka property '%s': invalid value (not shown)", name);
    else
        am_errf(err, errlen, "kafka property '%s': %s", name, why);
    return -1;
}

rd_kafka_conf_t *ingest_rdk_conf(const ingest_kafka_prop_t *props, size_t n,
                                 ingest_rdk_base_t *base, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_opaque(conf, base);
    for (size_t i = 0; i < n; i++)
        if (ingest_rdk_set(conf, props[i].name, props[i].value, err, errlen) != 0) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    return conf;
}

/* A JSON string of bytes that may not be UTF-8: kept when valid, else
 * with every non-ASCII byte shown as '?'. */
static json_t *lossy_string(const char *p, size_t len)
{
    json_t *s = json_stringn(p, len);
    if (s)
        return s;
    char *copy = am_xstrndup(p, len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)copy[i] >= 0x80 || copy[i] == '\0')
            copy[i] = '?';
    s = json_stringn(copy, len);
    free(copy);
    return s;
}

char *ingest_rdk_headers_json(rd_kafka_message_t *msg)
{
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
        return NULL;
    json_t *arr = json_array();
    const char *name;
    const void *value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
        json_array_append_new(arr, lossy_string(name, strlen(name)));
        json_array_append_new(arr, value ? lossy_string(value, size) : json_null());
    }
    char *text = json_array_size(arr) ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

int ingest_rdk_headers_parse(const char *json, rd_kafka_headers_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!json)
        return 0;
    json_error_t jerr;
    json_t *arr = json_loads(json, 0, &jerr);
    if (!arr) {
        am_errf(err, errlen, "headers: %s", jerr.text);
        return -1;
    }
    size_t n = json_is_array(arr) ? json_array_size(arr) : 1;
    if (!json_is_array(arr) || n % 2 != 0) {
        am_errf(err, errlen, "headers: expected kcat's [\"name\", \"value\", ...] array");
        json_decref(arr);
        return -1;
    }
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(n / 2);
    for (size_t i = 0; i < n; i += 2) {
        const json_t *name = json_array_get(arr, i), *value = json_array_get(arr, i + 1);
        if (!json_is_string(name) || !(json_is_string(value) || json_is_null(value))) {
            am_errf(err, errlen, "headers: item %zu: a name is a string, a value a string or null",
                    i / 2);
            rd_kafka_headers_destroy(hdrs);
            json_decref(arr);
            return -1;
        }
        rd_kafka_header_add(hdrs, json_string_value(name), (ssize_t)json_string_length(name),
                            json_is_null(value) ? NULL : json_string_value(value),
                            json_is_null(value) ? 0 : (ssize_t)json_string_length(value));
    }
    json_decref(arr);
    *out = hdrs;
    return 0;
}
