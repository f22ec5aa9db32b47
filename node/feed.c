/* Long polls and event streams (feed.h). */
#include "node/feed.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/num.h"
#include "crypto/crypto.h"

struct feed_poll {
	struct feed_poll *next;
	struct node_pending *p;
	struct rpc_call *c;
	struct node_events_query q;
	size_t limit;
	uint64_t deadline_ms;
};

struct feed_stream {
	struct feed_stream *next;
	uint64_t id;
	struct rpc_http_stream *st;
	struct node_events_query q; /* where the next write starts */
	bool writing;
	bool started; /* "retry:" was sent */
	uint64_t write_ms; /* when the write in flight started, or the last one did */
};

/* ---- long polls ---- */

static int
add_to_array(void *arg, const char *kind, const char *id, cJSON *ev)
{
	cJSON_AddItemToArray(arg, ev);
	return 0;
}

/*
 * poll_answer answers c with the events of q, if there are any, if the
 * scan stopped short of the tip, or if final. Else it moves q past the
 * blocks it read (none matched) and returns false.
 */
static bool
poll_answer(struct node_feed *f, struct rpc_call *c, struct node_events_query *q, size_t limit,
	    bool final)
{
	struct ch_err e;
	uint64_t tip = f->tip->height, next = q->from_height;
	cJSON *events = cJSON_CreateArray();
	if (events == NULL) {
		rpc_call_error(c, ch_rpc_code(CH_E_NOMEM), "out of memory", NULL);
		return true;
	}
	ch_err_clear(&e);
	if (node_events_scan(f->store, tip, q, limit, add_to_array, events, &next, &e) != 0) {
		cJSON_Delete(events);
		rpc_call_error(c, ch_rpc_code(e.code), ch_err_msg(&e), NULL);
		return true;
	}
	if (cJSON_GetArraySize(events) == 0 && next > tip && !final) {
		cJSON_Delete(events);
		if (next > q->from_height) {
			q->from_height = next;
			q->after_ordinal = -1;
		}
		return false;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "events", events);
	cJSON_AddNumberToObject(r, "next_height", (double)next);
	cJSON_AddNumberToObject(r, "height", (double)tip);
	rpc_call_result(c, r);
	return true;
}

int
node_feed_poll(struct node_feed *f, struct node_pending *p, struct rpc_call *c,
	       const struct node_events_query *q, size_t limit, uint64_t deadline_ms,
	       uint64_t now_ms)
{
	struct node_events_query cur = *q;
	if (poll_answer(f, c, &cur, limit, deadline_ms <= now_ms))
		return 0;
	struct feed_poll *w = malloc(sizeof(*w));
	if (w == NULL)
		return CH_E_NOMEM;
	*w = (struct feed_poll){
		.next = f->polls, .p = p, .c = c, .q = cur, .limit = limit, .deadline_ms = deadline_ms};
	f->polls = w;
	p->waiting++;
	return 0;
}

static void
settle_polls(struct node_feed *f, uint64_t now_ms, bool shutting_down)
{
	struct feed_poll **pp = &f->polls;
	while (*pp != NULL) {
		struct feed_poll *w = *pp;
		bool final = shutting_down || w->deadline_ms <= now_ms;
		if ((f->tip->height < w->q.from_height && !final) ||
		    !poll_answer(f, w->c, &w->q, w->limit, final)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		struct node_pending *p = w->p;
		free(w);
		if (--p->waiting == 0)
			f->finish(f->finish_arg, p);
	}
}

/* ---- streams ---- */

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? tolower(c) - 'a' + 10 : -1;
}

/* query_value finds name=value in a query and copies the value, percent-decoded (false: absent). */
static bool
query_value(const char *query, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	for (const char *p = query; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t n = 0;
			for (size_t i = nlen + 1; i < len && n + 1 < size; i++) {
				int hi, lo;
				if (p[i] == '%' && i + 2 < len + 1 && (hi = hexval(p[i + 1])) >= 0 &&
				    (lo = hexval(p[i + 2])) >= 0) {
					out[n++] = (char)(hi * 16 + lo);
					i += 2;
				} else {
					out[n++] = p[i] == '+' ? ' ' : p[i];
				}
			}
			out[n] = '\0';
			return true;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

static int
parse_kinds(const char *s, unsigned *kinds, struct ch_err *err)
{
	*kinds = 0;
	while (*s != '\0') {
		size_t len = strcspn(s, ",");
		if (len == 5 && strncmp(s, "block", 5) == 0)
			*kinds |= NODE_EV_BLOCK;
		else if (len == 2 && strncmp(s, "tx", 2) == 0)
			*kinds |= NODE_EV_TX;
		else
			return ch_errf(err, CH_E_INVALID,
				       "kinds: \"%.*s\" is not an event kind (block, tx)", (int)len,
				       s);
		s += len + (s[len] == ',');
	}
	if (*kinds == 0)
		return ch_errf(err, CH_E_INVALID, "kinds: name block, tx or both");
	return 0;
}

int
node_feed_parse_query(const char *query, const char *last_event_id, struct node_events_query *q,
		      struct ch_err *err)
{
	char v[128];
	uint64_t h = 1;
	uint32_t ord;
	*q = (struct node_events_query){.from_height = 1,
					.after_ordinal = -1,
					.kinds = NODE_EV_BLOCK | NODE_EV_TX};
	if (query_value(query, "from_height", v, sizeof(v)) && (!ch_parse_u64(v, &h) || h == 0))
		return ch_errf(err, CH_E_INVALID, "from_height must be a height of at least 1");
	q->from_height = h;
	if (query_value(query, "kinds", v, sizeof(v)) && parse_kinds(v, &q->kinds, err) != 0)
		return err->code;
	if (query_value(query, "account", v, sizeof(v))) {
		if (cr_hex_decode_exact(v, q->account, CR_ADDR_LEN) != 0)
			return ch_errf(err, CH_E_INVALID,
				       "account must be an address: %d hex characters",
				       2 * CR_ADDR_LEN);
		q->has_account = true;
	}
	if (last_event_id != NULL && last_event_id[0] != '\0') {
		if (!node_events_parse_id(last_event_id, &h, &ord) || h == 0)
			return ch_errf(err, CH_E_INVALID,
				       "Last-Event-ID must be an event id, \"<height>-<ordinal>\"");
		q->from_height = h;
		q->after_ordinal = ord;
	}
	return 0;
}

/* reply_error answers a GET with a JSON-RPC style error (its message may quote the client). */
static void
reply_error(struct rpc_http_req *req, int status, const struct ch_err *e)
{
	cJSON *o = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(o, "error");
	char *body = NULL;
	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddNullToObject(o, "id");
	if (err != NULL) {
		cJSON_AddNumberToObject(err, "code", ch_rpc_code(e->code));
		cJSON_AddStringToObject(err, "message", ch_err_msg(e));
		body = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	rpc_http_reply(req, body != NULL ? status : 500, NULL, body, body != NULL ? strlen(body) : 0);
	free(body);
}

void
node_feed_open(struct node_feed *f, struct rpc_http_req *req, const struct rpc_http_in *in,
	       uint64_t now_ms)
{
	struct ch_err e;
	struct node_events_query q;
	ch_err_clear(&e);
	if (node_feed_parse_query(in->query, in->last_event_id, &q, &e) != 0) {
		reply_error(req, 400, &e);
		return;
	}
	if (f->nstreams >= f->max_streams) {
		ch_errf(&e, CH_E_UNAVAILABLE, "too many event streams (limit %zu); retry later",
			f->max_streams);
		reply_error(req, 503, &e);
		return;
	}
	struct feed_stream *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ch_errf(&e, CH_E_NOMEM, "out of memory");
		reply_error(req, 503, &e);
		return;
	}
	s->id = ++f->next_id;
	s->q = q;
	s->writing = true; /* the head */
	s->write_ms = now_ms;
	if (rpc_http_stream_open(req, "text/event-stream", s->id, f->report, f->report_arg, &s->st,
				 &e) != 0) {
		free(s);
		return; /* the client is gone */
	}
	s->next = f->streams;
	f->streams = s;
	f->nstreams++;
}

/* add_to_batch appends one event, as Server-Sent Events lines, to the ch_buf arg. */
static int
add_to_batch(void *arg, const char *kind, const char *id, cJSON *ev)
{
	struct ch_buf *out = arg;
	char *json = cJSON_PrintUnformatted(ev); /* one line: no newline inside */
	cJSON_Delete(ev);
	if (json == NULL)
		return CH_E_NOMEM;
	ch_buf_put(out, "id: ", 4);
	ch_buf_put(out, id, strlen(id));
	ch_buf_put(out, "\nevent: ", 8);
	ch_buf_put(out, kind, strlen(kind));
	ch_buf_put(out, "\ndata: ", 7);
	ch_buf_put(out, json, strlen(json));
	ch_buf_put(out, "\n\n", 2);
	free(json);
	return ch_buf_ok(out) ? 0 : CH_E_NOMEM;
}

/* pump writes what is new to s; false if s is to be closed. */
static bool
pump(struct node_feed *f, struct feed_stream *s, uint64_t now_ms)
{
	static const char retry[] = "retry: 1000\n\n", keepalive[] = ": keepalive\n\n";
	struct ch_buf out;
	struct ch_err e;
	uint64_t next = s->q.from_height;
	if (s->writing)
		return true;
	ch_buf_init(&out);
	ch_err_clear(&e);
	if (!s->started)
		ch_buf_put(&out, retry, sizeof(retry) - 1);
	int rc = 0;
	/* blocks with nothing for this filter are skipped, a bounded number of scans per turn */
	for (int k = 0; rc == 0 && k < NODE_STREAM_SCANS && out.len == 0 && next <= f->tip->height;
	     k++) {
		struct node_events_query q = s->q;
		if (next > q.from_height) {
			q.from_height = next;
			q.after_ordinal = -1;
		}
		rc = node_events_scan(f->store, f->tip->height, &q, NODE_STREAM_BATCH, add_to_batch,
				      &out, &next, &e);
	}
	if (rc == 0 && out.len == 0 && now_ms >= s->write_ms + NODE_STREAM_KEEPALIVE_MS)
		ch_buf_put(&out, keepalive, sizeof(keepalive) - 1);
	if (rc == 0 && !ch_buf_ok(&out))
		rc = CH_E_NOMEM;
	bool wrote = rc == 0 && out.len > 0;
	if (wrote)
		rc = rpc_http_stream_write(s->st, out.data, out.len);
	ch_buf_close(&out);
	if (rc != 0)
		return false; /* the client resumes from its last event */
	if (next > s->q.from_height) {
		s->q.from_height = next;
		s->q.after_ordinal = -1;
	}
	if (wrote) {
		s->writing = true;
		s->started = true;
		s->write_ms = now_ms;
	}
	return true;
}

static void
stream_close(struct node_feed *f, struct feed_stream **pp)
{
	struct feed_stream *s = *pp;
	*pp = s->next;
	rpc_http_stream_close(s->st);
	free(s);
	f->nstreams--;
}

void
node_feed_report(struct node_feed *f, uint64_t id, bool closed, uint64_t now_ms)
{
	struct feed_stream **pp = &f->streams;
	while (*pp != NULL && (*pp)->id != id)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return; /* closed already */
	(*pp)->writing = false;
	if (closed || !pump(f, *pp, now_ms))
		stream_close(f, pp);
}

void
node_feed_settle(struct node_feed *f, uint64_t now_ms, bool shutting_down)
{
	settle_polls(f, now_ms, shutting_down);
	struct feed_stream **pp = &f->streams;
	while (*pp != NULL) {
		struct feed_stream *s = *pp;
		bool slow = s->writing && now_ms >= s->write_ms + NODE_STREAM_WRITE_TIMEOUT_MS;
		if (shutting_down || slow || !pump(f, s, now_ms))
			stream_close(f, pp);
		else
			pp = &s->next;
	}
}

uint64_t
node_feed_deadline(const struct node_feed *f)
{
	uint64_t d = UINT64_MAX;
	for (const struct feed_poll *w = f->polls; w != NULL; w = w->next)
		if (w->deadline_ms < d)
			d = w->deadline_ms;
	for (const struct feed_stream *s = f->streams; s != NULL; s = s->next) {
		uint64_t t = s->write_ms +
			     (s->writing ? NODE_STREAM_WRITE_TIMEOUT_MS : NODE_STREAM_KEEPALIVE_MS);
		if (t < d)
			d = t;
	}
	return d;
}
