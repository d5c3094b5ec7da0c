// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The forms option values take; see option_values.h. */
#include "cmd/option_values.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_format(const char *arg, enum output_format *format, struct am_error *err)
{
	if (strcmp(arg, "json") == 0) {
		*format = OUTPUT_JSON;
	} else if (strcmp(arg, "text") == 0) {
		*format = OUTPUT_TEXT;
	} else {
		am_error_set(err, "--format '%s': expected json or text", arg);
		return -EINVAL;
	}
	return 0;
}

int parse_seconds(const char *option, const char *arg, unsigned long min,
		  unsigned long max, unsigned int *out, struct am_error *err)
{
	unsigned long seconds;
	char *end;

	errno = 0;
	seconds = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || seconds < min || seconds > max) {
		am_error_set(err, "%s '%s': expected seconds from %lu to %lu", option, arg, min,
		      max);
		return -EINVAL;
	}
	*out = (unsigned int)seconds;
	return 0;
}

int parse_ringbuf_size(const char *text, uint32_t *out, struct am_error *err)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || *end || value < 4096 || value > (1ull << 30) ||
	    (value & (value - 1))) {
		am_error_set(err,
			     "--ringbuf-size '%s': expected a power of two from 4096 to 1073741824",
			     text);
		return -EINVAL;
	}
	*out = (uint32_t)value;
	return 0;
}

int parse_listen(struct monitor_options *options, const char *text, struct am_error *err)
{
	char *copy = strdup(text), *host, *port;
	unsigned char addr[16];
	unsigned long number;
	char *end;

	if (!copy) {
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	free(options->listen_buf);
	options->listen_buf = copy;
	if (copy[0] == '[') {
		host = copy + 1;
		port = strchr(host, ']');
		if (!port || port[1] != ':')
			goto bad;
		*port = '\0';
		port += 2;
	} else if ((port = strrchr(copy, ':'))) {
		host = copy;
		*port++ = '\0';
	} else {
		host = "127.0.0.1";
		port = copy;
	}
	errno = 0;
	number = strtoul(port, &end, 10);
	if (errno || end == port || *end || number < 1 || number > 65535 || port[0] == '-')
		goto bad;
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1 &&
	    strcmp(host, "localhost") != 0)
		goto bad;
	options->listen_host = host;
	options->listen_port = port;
	return 0;
bad:
	am_error_set(err, "--listen '%s': expected PORT (loopback), ADDRESS:PORT or [IPV6]:PORT, "
			  "like 9464 or 0.0.0.0:9464", text);
	return -EINVAL;
}
