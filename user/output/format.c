// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Values as records write them: times, addresses, protocols, sockets, access modes. */
#include "output/output_private.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * Every record has a time or two, so the date and time of day are formatted once
 * per second (per thread) and only the nanoseconds each call.
 */
void format_rfc3339(uint64_t time_ns, char out[RFC3339_LEN])
{
	/*
	 * The date and time of a few recent seconds: a record's time and its
	 * process's start time alternate, and one slot would miss at every call.
	 */
	static __thread uint64_t cached_second[4] = {UINT64_MAX, UINT64_MAX, UINT64_MAX,
						     UINT64_MAX};
	static __thread char cached[4][RFC3339_LEN]; /* "YYYY-MM-DDTHH:MM:SS." */
	static __thread unsigned int next_slot;
	uint64_t second = time_ns / 1000000000ull;
	unsigned int ns = (unsigned int)(time_ns % 1000000000ull), slot;
	int i;

	for (slot = 0; slot < 4 && cached_second[slot] != second; slot++)
		;
	if (slot == 4) {
		time_t t = (time_t)second;
		struct tm tm;

		slot = next_slot++ % 4;
		gmtime_r(&t, &tm);
		snprintf(cached[slot], sizeof(cached[slot]), "%04d-%02d-%02dT%02d:%02d:%02d.",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		cached_second[slot] = second;
	}
	/* 20 characters for every year a 64-bit nanosecond count can reach (1970-2554). */
	memcpy(out, cached[slot], 20);
	for (i = 28; i >= 20; i--) {
		out[i] = (char)('0' + ns % 10);
		ns /= 10;
	}
	out[29] = 'Z';
	out[30] = '\0';
}

void format_ip(uint8_t family, const uint8_t addr[16], char out[48])
{
	int i;

	if (family == 6) {
		if (!inet_ntop(AF_INET6, addr, out, 48))
			strcpy(out, "?");
		return;
	}
	/* IPv4 by hand: inet_ntop goes through sprintf, once per record. */
	for (i = 0; i < 4; i++) {
		unsigned int b = addr[i];

		if (b >= 100)
			*out++ = (char)('0' + b / 100);
		if (b >= 10)
			*out++ = (char)('0' + b / 10 % 10);
		*out++ = (char)('0' + b % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

const char *protocol_name(uint8_t protocol)
{
	switch (protocol) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		return "other";
	}
}

const char *socket_family_name(uint16_t family)
{
	switch (family) {
	case 2:
		return "inet";
	case 10:
		return "inet6";
	case 17:
		return "packet";
	default:
		return "other";
	}
}

const char *socket_type_name(uint16_t type)
{
	switch (type) {
	case 1:
		return "stream";
	case 2:
		return "dgram";
	case 3:
		return "raw";
	case 10:
		return "packet";
	default:
		return "other";
	}
}

const char *output_access_mode(uint32_t flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return "read";
	case O_WRONLY:
		return "write";
	default:
		return "read-write";
	}
}

/* How the socket came to be seen: made by socket(2) or io_uring, or held at start. */
const char *output_socket_via(const struct am_socket_record *socket)
{
	if (socket->syscall == AM_SOCKET_EXISTING)
		return "existing";
	return socket->syscall ? "io_uring" : "socket";
}
