// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The --help texts of `accessmon monitor` and `accessmon inventory`; see options.h. */
#include "cmd/options.h"

#include <stdio.h>

#define SOURCE_USAGE                                                                           \
	"  --host-root DIR       the node's root filesystem, prefixed to every host path\n"     \
	"                        the monitor reads (default: /)\n"                              \
	"  --pods FILE           Kubernetes PodList JSON (kubectl get pods -o json) naming\n"   \
	"                        the pods whose cgroups the events come from\n"                \
	"  --kubelet-url URL     poll the kubelet's /pods, e.g. https://NODE_IP:10250\n"        \
	"  --kubelet-token-file FILE\n"                                                         \
	"                        bearer token for the kubelet (default: the pod's service\n"    \
	"                        account token)\n"                                               \
	"  --kubelet-ca-file FILE  CA bundle that signed the kubelet's serving certificate\n"   \
	"  --kubelet-insecure    do not verify the kubelet's certificate\n"                     \
	"  --kubelet-interval SECONDS  between polls (default: 10)\n"                           \
	"  --cluster FILE        `az aks show -o json` output: kubelet and add-on identities\n" \
	"  --no-containerd       do not read containerd's task bundles\n"

void monitor_usage(FILE *out)
{
	fputs("Usage: accessmon monitor [OPTIONS]\n"
	      "\n"
	      "Attach accessmon's kernel probes and stream alerts (and with --events every\n"
	      "event), one JSON object per line, to standard output or the --sink's.\n"
	      "Diagnostics go to standard error. SIGHUP reloads the --config file, --policy\n"
	      "and --identities; a bad reload keeps what was loaded and says why.\n"
	      "\n"
	      "Options:\n"
	      "  --config FILE         a JSON object of these options, keys without the dashes:\n"
	      "                        {\"events\": true, \"sink\": [\"stdout\"], \"listen\": 9464};\n"
	      "                        options on the command line override it\n"
	      "  --events              write every reported event, not only alerts\n"
	      "  --sink SPEC           where lines go (repeatable; default: stdout). Each sink\n"
	      "                        has its own bounded queue; what a full one drops is\n"
	      "                        counted and reported as a sink-lost record:\n"
	      "                          stdout\n"
	      "                          file:PATH[,max-size=100M][,keep=5]\n"
	      "                          syslog[:unix:/dev/log | :udp:HOST:PORT | :tcp:HOST:PORT]\n"
	      "                                [,facility=authpriv]   (RFC 5424)\n"
	      "                          webhook:URL[,token-file=FILE][,ca-file=FILE][,insecure]\n"
	      "                                [,batch-lines=500][,batch-bytes=1M][,flush-ms=1000]\n"
	      "                                [,timeout-ms=10000]   (POSTs JSON lines; retries)\n"
	      "                        every sink takes queue=SIZE (default 8M). The webhook's\n"
	      "                        bearer token comes from token-file or\n"
	      "                        $ACCESSMON_WEBHOOK_TOKEN, never the command line\n"
	      "  --listen [ADDR:]PORT  serve /metrics (Prometheus), /healthz and /readyz over\n"
	      "                        HTTP; a port alone listens on 127.0.0.1\n"
	      "  --identities DIR      the Azure CLI's JSON: role-assignments.json,\n"
	      "                        identities.json, cluster.json, federated-credentials*.json,\n"
	      "                        resources.json (each optional)\n"
	      "  --policy FILE         allowed access and severity overrides (JSON); default: the\n"
	      "                        built-in policy, which allows what AKS itself does\n"
	      "  --record FILE         also write a trace file (replay it with accessmon replay)\n"
	      "  --record-max-size SIZE  rotate the trace at this size (e.g. 100M)\n"
	      "  --record-keep N       rotated traces kept: FILE.1 ... FILE.N (default: 5)\n"
	      "  --watch PATH          report opens of this file, by any path that reaches it\n"
	      "                        (repeatable)\n" SOURCE_USAGE
	      "  --service-tags FILE   Microsoft's ServiceTags_Public JSON (or .json.gz): names\n"
	      "                        the Azure service of destinations no DNS answer or TLS\n"
	      "                        server name names\n"
	      "  --cgroup-root DIR     cgroup v2 mount (default: found in /proc/mounts)\n"
	      "  --ready-file PATH     create PATH once every probe is attached; removed on exit\n"
	      "  --format json|text    JSON lines (default) or one readable line per record\n"
	      "  --open-hook auto|tracepoint|raw\n"
	      "                        which kernel hook sees opens: the syscall tracepoints\n"
	      "                        (cheapest; mounts tracefs if needed), the raw sys_exit\n"
	      "                        tracepoint, or the first that works (default: auto)\n"
	      "  --ringbuf-size BYTES  kernel ring buffer size, a power of two of at least 4096\n"
	      "                        (default: 4194304)\n"
	      "  --repeat-window SECONDS\n"
	      "                        after a pod's connect or send to a destination is\n"
	      "                        reported, count its repeats in the kernel this long and\n"
	      "                        report them as connect-repeat records (default: 60;\n"
	      "                        0: report every one; IMDS, WireServer, DNS and TLS are\n"
	      "                        always reported one by one)\n"
	      "  --pod-grace SECONDS   how long a pod no source reports any more, and a removed\n"
	      "                        cgroup, still name the events that arrive late\n"
	      "                        (default: 60)\n"
	      "  --degraded-interval SECONDS\n"
	      "                        while the kernel leaves a detection blind (a probe it\n"
	      "                        refused, a map it stopped letting the monitor use), say\n"
	      "                        so again this often: a monitor-degraded record and\n"
	      "                        alert (default: 60)\n"
	      "  --bpf-stats           turn on the kernel's BPF run time statistics while the\n"
	      "                        monitor runs, for /metrics' per-program runs and time\n"
	      "                        (they add two clock reads to every BPF program run on\n"
	      "                        the node; without it they count only when\n"
	      "                        kernel.bpf_stats_enabled=1)\n"
	      "  -v, --verbose         also print libbpf's own log\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Needs root, or exactly CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and\n"
	      "CAP_DAC_READ_SEARCH (CAP_SYS_ADMIN only to mount tracefs where nobody has), a\n"
	      "kernel with BTF (/sys/kernel/btf/vmlinux) and cgroup v2.\n"
	      "Stop with Ctrl-C or SIGTERM: the probes are detached and nothing stays pinned.\n",
	      out);
}

void inventory_usage(FILE *out)
{
	fputs("Usage: accessmon inventory [OPTIONS]\n"
	      "\n"
	      "Print what the monitor knows of this node right now: its identities (from\n"
	      "azure.json and --cluster) and its pods with their containers and workload\n"
	      "identities (from containerd, the kubelet and --pods), merged as the monitor\n"
	      "merges them. Use it to check the monitor sees the node as you do.\n"
	      "\n"
	      "Options:\n"
	      "  --format json|text    one JSON document (default) or readable lines\n" SOURCE_USAGE
	      "  -h, --help            show this help\n",
	      out);
}
