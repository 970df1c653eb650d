// SPDX-License-Identifier: GPL-2.0
/*
 * skpd answers state as records; here they become text or JSON.  The output is what
 * skpd printed itself up to protocol version 1, byte for byte: scripts read it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "header.h"
#include "show.h"

static const char *iso(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		snprintf(buf, size, "-");
		return buf;
	}
	/* a time no calendar holds comes from a broken skpd: shown as the number */
	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%" PRId64, t);
	return buf;
}

/* A JSON string: '"' and '\' escaped, control characters as \uXXXX, the rest as is. */
void show_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *json_bool(uint32_t b)
{
	return b ? "true" : "false";
}

/* The next record; the answer was checked whole, so it is there and of the type due. */
static int next(struct skp_rec_iter *it, unsigned int type, union skp_rec *r, struct skp_err *err)
{
	if (skp_rec_next(it, r, err) != 1 || r->h.type != type)
		return skp_err_set(err, -EBADMSG, "skpd's answer changed under the reader");
	return 0;
}

/* "deep 42.0% 31.5MiB/s eta 12s", "deep paused 42.0%", or "none": status and list. */
static void rekey_summary(const struct skp_rekey_progress *p, char *buf, size_t size)
{
	if (p->state == SKP_REKEY_NONE)
		snprintf(buf, size, "none");
	else if (p->state == SKP_REKEY_RUNNING)
		snprintf(buf, size, "deep %.1f%% %.1fMiB/s eta %.0fs", p->percent, p->mib_per_s,
			 p->eta_s < 0 ? 0 : p->eta_s);
	else
		snprintf(buf, size, "deep %s %.1f%%", skp_rekey_state_name(p->state), p->percent);
}

void show_rekey(FILE *f, const struct skp_rec_rekey *r, int json)
{
	const struct skp_rekey_progress *p = &r->p;

	if (json) {
		fprintf(f, "{\"mapping\":");
		show_json_str(f, r->mapping);
		fprintf(f, ",\"state\":\"%s\",\"boundary\":%" PRIu64 ",\"length\":%" PRIu64
			",\"percent\":%.1f,\"mib_per_s\":%.1f,\"eta_s\":%.0f,\"dek_generation\":%" PRIu64 ",\"error\":",
			skp_rekey_state_name(p->state), p->boundary, p->length, p->percent, p->mib_per_s, p->eta_s,
			p->generation);
		show_json_str(f, p->error);
		fprintf(f, "}\n");
		return;
	}
	fprintf(f, "%s: state=%s percent=%.1f boundary=%" PRIu64 " length=%" PRIu64 " mibps=%.1f eta=%.0f generation=%"
		PRIu64 "%s%s\n", r->mapping, skp_rekey_state_name(p->state), p->percent, p->boundary, p->length,
		p->mib_per_s, p->eta_s, p->generation, p->error[0] ? " error=" : "", p->error);
}

static const char *node_state(uint32_t s)
{
	return s == SKP_NODE_OK ? "ok" : s == SKP_NODE_FAILING ? "failing" : "unknown";
}

static void status_node_json(FILE *f, const struct skp_rec_node *n)
{
	char t[32];

	fprintf(f, "{\"server\":");
	show_json_str(f, n->server);
	fprintf(f, ",\"state\":\"%s\",\"failing_since\":\"%s\",\"consecutive_failures\":%u,"
		"\"latency_ms\":%.1f,\"error\":", node_state(n->state), iso(n->failing_since, t, sizeof(t)), n->fails,
		n->latency_ms);
	show_json_str(f, n->error);
	fprintf(f, "}");
}

static void status_node_text(FILE *f, const struct skp_rec_node *n)
{
	char t[32];

	if (n->state == SKP_NODE_UNKNOWN)
		fprintf(f, "  node %s: not checked yet\n", n->server);
	else if (n->state == SKP_NODE_OK)
		fprintf(f, "  node %s: ok, latency %.1f ms\n", n->server, n->latency_ms);
	else
		fprintf(f, "  node %s: failing since %s (%u in a row): %.150s\n", n->server,
			iso(n->failing_since, t, sizeof(t)), n->fails, n->error);
}

static int status_provider(FILE *f, struct skp_rec_iter *it, int first, int json, struct skp_err *err)
{
	union skp_rec r, n;
	struct skp_rec_provider *p = &r.provider;

	if (next(it, SKP_REC_PROVIDER, &r, err) < 0)
		return -EBADMSG;
	if (json) {
		fprintf(f, "%s{\"name\":", first ? "" : ",");
		show_json_str(f, p->name);
		fprintf(f, ",\"default\":%s,\"alarm\":", json_bool(p->is_default));
		if (p->alarm)
			show_json_str(f, p->alarm_msg);
		else
			fprintf(f, "null");
		fprintf(f, ",\"nodes\":[");
	} else {
		fprintf(f, "provider %s%s: %s\n", p->name, p->is_default ? " (default)" : "", p->alarm ? "ALARM" : "ok");
		if (p->alarm)
			fprintf(f, "  ALARM: %s\n", p->alarm_msg);
	}
	for (uint32_t j = 0; j < p->n_nodes; j++) {
		if (next(it, SKP_REC_NODE, &n, err) < 0)
			return -EBADMSG;
		if (json) {
			fprintf(f, "%s", j ? "," : "");
			status_node_json(f, &n.node);
		} else {
			status_node_text(f, &n.node);
		}
	}
	if (json)
		fprintf(f, "]}");
	return 0;
}

static void status_head(FILE *f, const struct skp_rec_status *s, int json)
{
	const uint32_t *kv = s->target_version;
	char t[32];

	if (json) {
		fprintf(f, "{\"version\":1,\"started\":\"%s\",\"config\":", iso(s->started, t, sizeof(t)));
		show_json_str(f, s->config);
		fprintf(f, ",\"target\":\"%s\",\"target_version\":", s->target);
		if (s->target_loaded)
			fprintf(f, "\"%u.%u.%u\"", kv[0], kv[1], kv[2]);
		else
			fprintf(f, "null");
		fprintf(f, ",\"alarm\":%s,\"devices\":%" PRIu64 ",\"cached_keks\":%" PRIu64 ","
			"\"health_interval\":%d,\"remediation_interval\":%d,\"providers\":[",
			json_bool(s->alarm), s->devices, s->cached_keks, s->health_interval, s->remediation_interval);
		return;
	}
	fprintf(f, "skpd: up since %s, config %s, dm target %s", iso(s->started, t, sizeof(t)), s->config, s->target);
	if (s->target_loaded)
		fprintf(f, " %u.%u.%u loaded\n", kv[0], kv[1], kv[2]);
	else
		fprintf(f, " (not loaded)\n");
	fprintf(f, "devices open: %" PRIu64 ", KEKs cached: %" PRIu64 "\n", s->devices, s->cached_keks);
}

static const char *wait_name(uint32_t w)
{
	return w == SKP_PENDING_DEVICE ? "device" : w == SKP_PENDING_PROVIDER ? "provider" : "open";
}

/* An skptab entry not open yet: what it waits for, how often it was tried, when next. */
static int status_pending(FILE *f, struct skp_rec_iter *it, int first, int json, struct skp_err *err)
{
	union skp_rec r;
	const struct skp_rec_pending *p = &r.pending;
	char t[32];

	if (next(it, SKP_REC_PENDING, &r, err) < 0)
		return -EBADMSG;
	if (!json) {
		fprintf(f, "pending %s: %s (waiting for its %s%s%s; %u attempt(s) since %s, next in %.0fs%s)\n",
			p->mapping, p->reason, wait_name(p->wait), p->provider[0] ? " " : "", p->provider,
			p->attempts, iso(p->since, t, sizeof(t)), p->next_s, p->nofail ? ", nofail" : "");
		return 0;
	}
	fprintf(f, "%s{\"mapping\":", first ? "" : ",");
	show_json_str(f, p->mapping);
	fprintf(f, ",\"waiting_for\":\"%s\",\"provider\":", wait_name(p->wait));
	if (p->provider[0])
		show_json_str(f, p->provider);
	else
		fprintf(f, "null");
	fprintf(f, ",\"reason\":");
	show_json_str(f, p->reason);
	fprintf(f, ",\"attempts\":%u,\"since\":\"%s\",\"next_retry_s\":%.1f,\"nofail\":%s,\"timeout\":%u}",
		p->attempts, iso(p->since, t, sizeof(t)), p->next_s, json_bool(p->nofail), p->timeout);
	return 0;
}

static int show_status(FILE *f, struct skp_rec_iter *it, int json, struct skp_err *err)
{
	union skp_rec st, r;
	const struct skp_rec_status *s = &st.status;

	if (next(it, SKP_REC_STATUS, &st, err) < 0)
		return -EBADMSG;
	status_head(f, s, json);
	for (uint32_t i = 0; i < s->n_providers; i++)
		if (status_provider(f, it, i == 0, json, err) < 0)
			return -EBADMSG;
	if (json)
		fprintf(f, "],\"device_problems\":[");
	for (uint32_t i = 0; i < s->n_problems; i++) {
		if (next(it, SKP_REC_PROBLEM, &r, err) < 0)
			return -EBADMSG;
		if (!json) {
			fprintf(f, "device %s: PROBLEM: %s\n", r.problem.mapping, r.problem.problem);
			continue;
		}
		fprintf(f, "%s{\"mapping\":", i ? "," : "");
		show_json_str(f, r.problem.mapping);
		fprintf(f, ",\"problem\":");
		show_json_str(f, r.problem.problem);
		fprintf(f, "}");
	}
	for (uint32_t i = 0; i < s->n_rekeys; i++) {
		char rk[64];

		if (next(it, SKP_REC_REKEY, &r, err) < 0)
			return -EBADMSG;
		/* JSON status has no rekeys: list --json and rekey --status --json carry them. */
		if (json)
			continue;
		rekey_summary(&r.rekey.p, rk, sizeof(rk));
		fprintf(f, "device %s: rekey %s\n", r.rekey.mapping, rk);
	}
	if (json)
		fprintf(f, "],\"pending\":[");
	for (uint32_t i = 0; i < s->n_pending; i++)
		if (status_pending(f, it, i == 0, json, err) < 0)
			return -EBADMSG;
	if (json)
		fprintf(f, "]}\n");
	else
		fprintf(f, "status: %s\n", s->alarm ? "ALARM" : "ok");
	return 0;
}

static void device_json(FILE *f, const struct skp_rec_device *v, const char *u, const char *rk)
{
	fprintf(f, "{\"mapping\":");
	show_json_str(f, v->mapping);
	fprintf(f, ",\"device\":");
	show_json_str(f, v->dev);
	fprintf(f, ",\"uuid\":\"%s\",\"label\":", u);
	show_json_str(f, v->label);
	fprintf(f, ",\"provider\":");
	show_json_str(f, v->provider);
	fprintf(f, ",\"kek_uid\":");
	show_json_str(f, v->kek_uid);
	fprintf(f, ",\"kek_name\":");
	show_json_str(f, v->kek_name);
	fprintf(f, ",\"dek_generation\":%" PRIu64 ",\"rekey_state\":\"%s\",\"rekey\":", v->generation,
		skp_rekey_state_name(v->rekey.state));
	show_json_str(f, rk);
	fprintf(f, ",\"sector_size\":%u,\"data_bytes\":%" PRIu64 ",\"read_only\":%s,\"discards\":%s,\"problem\":",
		v->sector_size, v->data_length, v->flags & SKP_DEV_READONLY ? "true" : "false",
		v->flags & SKP_DEV_DISCARDS ? "true" : "false");
	if (v->problem[0])
		show_json_str(f, v->problem);
	else
		fprintf(f, "null");
	fprintf(f, "}");
}

static int show_list(FILE *f, struct skp_rec_iter *it, int json, struct skp_err *err)
{
	union skp_rec r;
	int first = 1;

	if (json)
		fprintf(f, "[");
	else
		fprintf(f, "%-16s %-14s %-36s %-12s %-20s %4s %s\n", "MAPPING", "DEVICE", "UUID", "PROVIDER", "KEK",
			"GEN", "REKEY");
	while (it->off < it->len) {
		const struct skp_rec_device *v = &r.device;
		char u[37], rk[64];

		if (next(it, SKP_REC_DEVICE, &r, err) < 0)
			return -EBADMSG;
		skp_uuid_format(v->uuid, u);
		rekey_summary(&v->rekey, rk, sizeof(rk));
		if (json) {
			fprintf(f, "%s", first ? "" : ",");
			device_json(f, v, u, rk);
		} else {
			fprintf(f, "%-16s %-14s %-36s %-12s %-20s %4" PRIu64 " %s%s\n", v->mapping, v->dev, u, v->provider,
				v->kek_uid, v->generation, rk, v->flags & SKP_DEV_READONLY ? " (read-only)" : "");
		}
		first = 0;
	}
	if (json)
		fprintf(f, "]\n");
	return 0;
}

static int show_providers(FILE *f, struct skp_rec_iter *it, int json, struct skp_err *err)
{
	union skp_rec r, n;
	const struct skp_rec_provider *p = &r.provider;
	int first = 1;

	if (json)
		fprintf(f, "[");
	while (it->off < it->len) {
		if (next(it, SKP_REC_PROVIDER, &r, err) < 0)
			return -EBADMSG;
		if (json) {
			fprintf(f, "%s{\"name\":", first ? "" : ",");
			show_json_str(f, p->name);
			fprintf(f, ",\"default\":%s,\"devices\":%" PRIu64 ",\"servers\":[", json_bool(p->is_default),
				p->devices);
		} else {
			fprintf(f, "%s%s: %" PRIu64 " device(s), servers:", p->name, p->is_default ? " (default)" : "",
				p->devices);
		}
		for (uint32_t j = 0; j < p->n_nodes; j++) {
			if (next(it, SKP_REC_NODE, &n, err) < 0)
				return -EBADMSG;
			if (json) {
				fprintf(f, "%s", j ? "," : "");
				show_json_str(f, n.node.server);
			} else {
				fprintf(f, " %s", n.node.server);
			}
		}
		fprintf(f, json ? "]}" : "\n");
		first = 0;
	}
	if (json)
		fprintf(f, "]\n");
	return 0;
}

static int show_provider_test(FILE *f, struct skp_rec_iter *it, int json, struct skp_err *err)
{
	union skp_rec r, n;
	const struct skp_rec_provider *p = &r.provider;

	if (next(it, SKP_REC_PROVIDER, &r, err) < 0)
		return -EBADMSG;
	if (json)
		fprintf(f, "{\"provider\":\"%s\",\"healthy\":%d,\"nodes\":[", p->name, p->healthy);
	for (uint32_t j = 0; j < p->n_nodes; j++) {
		const struct skp_rec_node *nd = &n.node;
		int ok;

		if (next(it, SKP_REC_NODE, &n, err) < 0)
			return -EBADMSG;
		ok = nd->state == SKP_NODE_OK;
		if (json) {
			fprintf(f, "%s{\"server\":", j ? "," : "");
			show_json_str(f, nd->server);
			fprintf(f, ",\"ok\":%s,\"latency_ms\":%.1f,\"error\":", json_bool(ok), nd->latency_ms);
			show_json_str(f, ok ? "" : nd->error);
			fprintf(f, "}");
		} else if (ok) {
			/* whole milliseconds (skpd's probe measures no finer); no cast of a double */
			fprintf(f, "%s: ok (%.0f ms)\n", nd->server, nd->latency_ms);
		} else {
			fprintf(f, "%s: FAILED: %s\n", nd->server, nd->error);
		}
	}
	if (json)
		fprintf(f, "]}\n");
	return 0;
}

static int show_keys(FILE *f, struct skp_rec_iter *it, int json, struct skp_err *err)
{
	union skp_rec r;
	int first = 1;

	if (json)
		fprintf(f, "{");
	while (it->off < it->len) {
		if (next(it, SKP_REC_KEYS, &r, err) < 0)
			return -EBADMSG;
		if (json) {
			fprintf(f, "%s", first ? "" : ",");
			show_json_str(f, r.keys.provider);
			fprintf(f, ":%" PRIu64, r.keys.keks);
		} else {
			fprintf(f, "%-20s %" PRIu64 "\n", r.keys.provider, r.keys.keks);
		}
		first = 0;
	}
	if (json)
		fprintf(f, "}\n");
	return 0;
}

int show_records(FILE *f, uint16_t cmd, const void *body, size_t len, int json, struct skp_err *err)
{
	struct skp_rec_iter it;
	union skp_rec r;

	/* Whole first: nothing is printed from an answer that turns out malformed. */
	if (skp_resp_records_check(cmd, body, len, err) < 0)
		return -EBADMSG;
	skp_rec_iter_init(&it, body, len);
	switch (cmd) {
	case SKP_CMD_STATUS:
		return show_status(f, &it, json, err);
	case SKP_CMD_LIST:
		return show_list(f, &it, json, err);
	case SKP_CMD_PROVIDER_LIST:
		return show_providers(f, &it, json, err);
	case SKP_CMD_PROVIDER_TEST:
		return show_provider_test(f, &it, json, err);
	case SKP_CMD_KEYS_COUNT:
		return show_keys(f, &it, json, err);
	case SKP_CMD_REKEY:
		if (next(&it, SKP_REC_REKEY, &r, err) < 0)
			return -EBADMSG;
		show_rekey(f, &r.rekey, json);
		return 0;
	}
	return skp_err_set(err, -EBADMSG, "%s answers with text, not records", skp_cmd_name(cmd));
}
