// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What a replay keeps of the records: a pod, a rule, a time range. */
#include "output/output.h"

#include <string.h>

#include "attribute/pods.h"

bool output_filter_keep(const struct output_filter *filter, const struct event_view *view,
			const char *rule, uint64_t time_ns)
{
	if (!filter)
		return true;
	if (filter->since_ns && time_ns < filter->since_ns)
		return false;
	if (filter->until_ns && time_ns > filter->until_ns)
		return false;
	if (filter->rule && (!rule || strcmp(rule, filter->rule) != 0))
		return false;
	if (filter->pod_name) {
		const struct pod_info *pod = view ? view->pod : NULL;

		if (!pod || !pod->name || !pod->namespace || strcmp(pod->name, filter->pod_name) != 0 ||
		    strcmp(pod->namespace, filter->namespace) != 0)
			return false;
	}
	return true;
}
