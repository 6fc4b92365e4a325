/*
 * record.c - naming a record's place for error messages and the rejected
 * table.
 */
#include "common/record.h"

#include <stdio.h>

char *am_record_place(const am_record_t *rec, char out[AM_PLACE_LEN])
{
    if (rec->file && rec->topic)
        snprintf(out, AM_PLACE_LEN, "%s:%ld (%s/%d/%lld)", rec->file, rec->line, rec->topic,
                 (int)rec->partition, (long long)rec->offset);
    else if (rec->file)
        snprintf(out, AM_PLACE_LEN, "%s:%ld", rec->file, rec->line);
    else if (rec->topic)
        snprintf(out, AM_PLACE_LEN, "%s/%d/%lld", rec->topic, (int)rec->partition,
                 (long long)rec->offset);
    else
        snprintf(out, AM_PLACE_LEN, "(unknown)");
    return out;
}
