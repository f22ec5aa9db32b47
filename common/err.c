#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

static const struct {
	const char *name;
	int rpc;
	const char *msg;
} err_table[] = {
#define CH_ERR_ROW(name, rpc, msg) {#name, rpc, msg},
	CH_ERRORS(CH_ERR_ROW)
#undef CH_ERR_ROW
};

const char *
ch_strerror(int code)
{
	if (code < 0 || code >= CH_E__COUNT)
		return "unknown error";
	return err_table[code].msg;
}

const char *
ch_errname(int code)
{
	if (code < 0 || code >= CH_E__COUNT)
		return "UNKNOWN";
	return err_table[code].name;
}

int
ch_rpc_code(int code)
{
	if (code <= 0 || code >= CH_E__COUNT)
		return -32603;
	return err_table[code].rpc;
}

int
ch_err_from_rpc(int rpc_code)
{
	for (int i = 1; i < CH_E__COUNT; i++)
		if (err_table[i].rpc == rpc_code && rpc_code <= -32000 && rpc_code >= -32099)
			return i;
	if (rpc_code == -32602 || rpc_code == -32600 || rpc_code == -32700 || rpc_code == -32601)
		return CH_E_INVALID;
	return CH_E_INTERNAL;
}

int
ch_errf(struct ch_err *err, int code, const char *fmt, ...)
{
	if (err != NULL) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int
ch_err_wrap(struct ch_err *err, int code, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	char was[CH_ERRMSG_MAX];
	snprintf(was, sizeof(was), "%s", ch_err_msg(err));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* as much of the old message as fits after the context */
	int room = (int)sizeof(err->msg) - n - 3;
	if (n >= 0 && room > 0)
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %.*s", room, was);
	err->code = code;
	return code;
}

void
ch_err_clear(struct ch_err *err)
{
	if (err != NULL) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *
ch_err_msg(const struct ch_err *err)
{
	if (err->msg[0] != '\0')
		return err->msg;
	return ch_strerror(err->code);
}
