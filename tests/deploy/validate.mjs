// Validates a stream of Kubernetes manifests (the output of `kubectl kustomize
// deploy/kubernetes`) as the API server would, and checks what accessmon's
// deployment promises about itself.
//
//   node validate.mjs [--schema-only] [FILE...]   every problem on stdout, one a line; exit 1 if any
//   node validate.mjs --print-capabilities [FILE]   the monitor container's added capabilities
//   node validate.mjs --print-config [FILE]         the config.json the monitor is started with
//
// FILE defaults to standard input; given several, each is validated on its own
// and its problems are prefixed with its name, as grep does.
//
// Two independent sources of the Kubernetes API: kubernetes-models validates
// each object against the API's OpenAPI schemas (types, required fields, enums,
// formats) but ignores fields it does not know; the official client's models
// list every field of every type, so a walk over them reports each unknown field
// with its path (a misspelt `readinesProbe` is silently dropped by a lenient
// apply, and the pod then runs without it).
// --schema-only skips the accessmon checks, for manifests that are not the
// DaemonSet's (deploy/kubernetes/optional/).
import { readFileSync } from "node:fs";
// The client's models alone (what its index re-exports, without the API clients
// and their dependencies): half the start-up time. The version is pinned.
import * as client from "@kubernetes/client-node/dist/gen/models/all.js";
import { parseAllDocuments } from "yaml";

// What the monitor needs, and the DaemonSet must add (deploy/README.md says why).
const EXPECTED_CAPABILITIES = ["BPF", "PERFMON", "NET_ADMIN", "DAC_READ_SEARCH"];
// Node paths the monitor reads under its host root (config.json "host-root").
const HOST_PATHS_UNDER_ROOT = [
	"/proc",
	"/sys/fs/cgroup",
	"/etc/kubernetes",
	"/var/lib/kubelet",
	"/run/containerd/io.containerd.runtime.v2.task/k8s.io",
];
// The one host path that may be writable: the optional file sink's directory.
const WRITABLE_HOST_PATH = "/var/log/accessmon";
// All the monitor may do through its service account: GET the kubelet's /pods
// (nodes/pods from Kubernetes 1.33, nodes/proxy before: optional/ only).
const ALLOWED_GRANTS = new Set(["/nodes/pods get", "/nodes get"]);
const DAEMONSET = "accessmon";
const CONTAINER = "accessmon";

// --- input -----------------------------------------------------------------

function usage(message) {
	if (message)
		process.stderr.write(`validate: ${message}\n`);
	process.stderr.write(
		"usage: node validate.mjs [--schema-only] [FILE...]\n" +
			"       node validate.mjs --print-capabilities | --print-config [FILE]\n",
	);
	process.exit(2);
}

function parseArguments(argv) {
	const options = { mode: "validate", schemaOnly: false, files: [] };
	for (const arg of argv) {
		if (arg === "--schema-only")
			options.schemaOnly = true;
		else if (arg === "--print-capabilities")
			options.mode = "capabilities";
		else if (arg === "--print-config")
			options.mode = "config";
		else if (arg === "-h" || arg === "--help")
			usage();
		else if (arg.startsWith("--"))
			usage(`unknown option '${arg}'`);
		else
			options.files.push(arg);
	}
	if (options.mode !== "validate" && options.files.length > 1)
		usage(`--print-${options.mode} reads one FILE`);
	if (!options.files.length)
		options.files.push("-");
	return options;
}

function isObject(value) {
	return value !== null && typeof value === "object" && !Array.isArray(value);
}

// --- paths -----------------------------------------------------------------

// ["spec", "containers", 0, "name"] -> spec.containers[0].name; keys that are not
// plain identifiers (labels, annotations) in brackets.
function formatPath(segments) {
	let out = "";
	for (const segment of segments) {
		if (typeof segment === "number")
			out += `[${segment}]`;
		else if (/^[A-Za-z_$][\w$-]*$/.test(segment))
			out += out ? `.${segment}` : segment;
		else
			out += `[${JSON.stringify(segment)}]`;
	}
	return out;
}

// An ajv instancePath (JSON pointer) as segments, array indexes as numbers.
function pointerSegments(object, pointer) {
	const segments = [];
	let at = object;
	for (const raw of pointer.split("/").slice(1)) {
		const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
		const segment = Array.isArray(at) && /^\d+$/.test(key) ? Number(key) : key;
		segments.push(segment);
		at = at == null ? undefined : at[segment];
	}
	return segments;
}

// --- models ----------------------------------------------------------------

const API_VERSION = /^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v\d+(?:(?:alpha|beta)\d+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

// The kubernetes-models class for apiVersion/kind, or null.
async function schemaModel(apiVersion, kind) {
	let module;
	try {
		module = await import(`kubernetes-models/${apiVersion}`);
	} catch {
		return null;
	}
	const model = module[kind];
	return typeof model === "function" && typeof model.prototype.validate === "function"
		? model
		: null;
}

// The client's model for apiVersion/kind: V1DaemonSet, or RbacV1Subject-style
// names where two groups share a kind.
function attributeModelName(apiVersion, kind) {
	const [group, version] = apiVersion.includes("/")
		? apiVersion.split("/")
		: ["core", apiVersion];
	const Version = version[0].toUpperCase() + version.slice(1);
	const first = group.split(".")[0];
	const Group = first[0].toUpperCase() + first.slice(1);
	for (const name of [`${Group}${Version}${kind}`, `${Version}${kind}`]) {
		if (typeof client[name]?.getAttributeTypeMap === "function")
			return name;
	}
	return null;
}

// Reports every member the client's models do not define, with its path.
function walkUnknownFields(value, type, segments, report) {
	if (value === null || value === undefined)
		return;
	let match = /^Array<(.+)>$/.exec(type);
	if (match) {
		if (Array.isArray(value))
			value.forEach((item, i) => walkUnknownFields(item, match[1], [...segments, i], report));
		return;
	}
	match = /^\{ \[key: string\]: (.+); \}$/.exec(type);
	if (match) {
		if (isObject(value))
			for (const [key, item] of Object.entries(value))
				walkUnknownFields(item, match[1], [...segments, key], report);
		return;
	}
	const model = client[type];
	// Primitives, Date, IntOrString, any: the schema validation judges those.
	if (typeof model?.getAttributeTypeMap !== "function" || !isObject(value))
		return;
	const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
	for (const [key, item] of Object.entries(value)) {
		if (!fields.has(key))
			report([...segments, key], "unknown field");
		else
			walkUnknownFields(item, fields.get(key), [...segments, key], report);
	}
}

function schemaErrorMessage(error) {
	if (error.message)
		return error.message;
	if (error.keyword === "required")
		return `must have required property ${error.params.missingProperty}`;
	return `fails ${error.keyword} ${JSON.stringify(error.params)}`;
}

// [pointer, message] pairs. A value that fits none of a oneOf's alternatives
// (int-or-string, quantities) yields one error per alternative plus the oneOf's
// own: say it once, "must be integer or string".
function schemaMessages(errors) {
	const byPointer = new Map();
	for (const error of errors) {
		if (!byPointer.has(error.instancePath))
			byPointer.set(error.instancePath, []);
		byPointer.get(error.instancePath).push(error);
	}
	const messages = [];
	for (const [pointer, group] of byPointer) {
		if (group.some((e) => e.keyword === "oneOf" || e.keyword === "anyOf")) {
			const types = group.filter((e) => e.keyword === "type").map((e) => e.params.type);
			const rest = group.filter((e) => !["type", "oneOf", "anyOf"].includes(e.keyword));
			messages.push([pointer, types.length ? `must be ${types.join(" or ")}` : schemaErrorMessage(group[0])]);
			rest.forEach((e) => messages.push([pointer, schemaErrorMessage(e)]));
			continue;
		}
		group.forEach((e) => messages.push([pointer, schemaErrorMessage(e)]));
	}
	return messages;
}

// --- the stream ------------------------------------------------------------

class Problems {
	constructor() {
		this.lines = [];
	}

	add(object, segments, message) {
		const where = object
			? `${object.kind ?? "?"} ${object.metadata?.name ?? "(unnamed)"}`
			: "stream";
		const path = formatPath(segments ?? []);
		this.lines.push(path ? `${where}: ${path}: ${message}` : `${where}: ${message}`);
	}
}

function readDocuments(text, problems) {
	const objects = [];
	parseAllDocuments(text).forEach((document, index) => {
		for (const error of document.errors)
			problems.add(null, [], `document ${index + 1}: YAML: ${error.message.split("\n")[0]}`);
		if (document.errors.length)
			return;
		const object = document.toJS();
		if (object === null || object === undefined)
			return; // an empty document, e.g. after a trailing ---
		if (!isObject(object)) {
			problems.add(null, [], `document ${index + 1}: not a Kubernetes object`);
			return;
		}
		objects.push(object);
	});
	return objects;
}

async function validateSchemas(object, problems) {
	const { apiVersion, kind } = object;
	if (typeof apiVersion !== "string" || !API_VERSION.test(apiVersion)) {
		problems.add(object, ["apiVersion"], `not an API version: ${JSON.stringify(apiVersion)}`);
		return;
	}
	if (typeof kind !== "string" || !KIND.test(kind)) {
		problems.add(object, ["kind"], `not a kind: ${JSON.stringify(kind)}`);
		return;
	}
	const Model = await schemaModel(apiVersion, kind);
	const attributeName = attributeModelName(apiVersion, kind);
	if (!Model || !attributeName) {
		problems.add(object, [], `no schema for apiVersion ${apiVersion} kind ${kind}`);
		return;
	}
	try {
		new Model(structuredClone(object)).validate();
	} catch (error) {
		if (!Array.isArray(error.errors))
			throw error;
		for (const [pointer, message] of schemaMessages(error.errors))
			problems.add(object, pointerSegments(object, pointer), message);
	}
	walkUnknownFields(object, attributeName, [], (segments, message) =>
		problems.add(object, segments, message),
	);
}

// --- accessmon's own promises ----------------------------------------------

function find(objects, kind, name) {
	return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

function capabilityName(capability) {
	return String(capability).toUpperCase().replace(/^CAP_/, "");
}

// "0.0.0.0:9464", "[::]:9464", "9464" -> {host, port}; host null for a bare port.
function parseListen(text) {
	const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(String(text));
	if (!match)
		return null;
	return { host: match[1] ?? match[2] ?? null, port: Number(match[3]) };
}

// The value of --config in a container's command line, or null.
function configArgument(container) {
	const argv = [...(container.command ?? []), ...(container.args ?? [])];
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === "--config" && i + 1 < argv.length)
			return argv[i + 1];
		if (String(argv[i]).startsWith("--config="))
			return argv[i].slice("--config=".length);
	}
	return null;
}

// Which ConfigMap key provides the file at path in this pod, or a reason it none does.
function fileFromConfigMap(objects, podSpec, container, path) {
	const volumes = new Map((podSpec.volumes ?? []).map((v) => [v.name, v]));
	for (const mount of container.volumeMounts ?? []) {
		const volume = volumes.get(mount.name);
		if (!volume?.configMap)
			continue;
		let key = null;
		if (mount.subPath && mount.mountPath === path)
			key = mount.subPath;
		else if (!mount.subPath && path.startsWith(`${mount.mountPath.replace(/\/$/, "")}/`))
			key = path.slice(mount.mountPath.replace(/\/$/, "").length + 1);
		if (key === null)
			continue;
		const configMap = find(objects, "ConfigMap", volume.configMap.name);
		if (!configMap)
			return { error: `ConfigMap ${volume.configMap.name} is not in the stream` };
		if (typeof configMap.data?.[key] !== "string")
			return { error: `ConfigMap ${volume.configMap.name} has no key ${key}` };
		return { configMap, key, text: configMap.data[key] };
	}
	return { error: `no ConfigMap volume is mounted at ${path}` };
}

function monitorContainer(objects, problems) {
	const daemonSet = find(objects, "DaemonSet", DAEMONSET);
	if (!daemonSet) {
		problems?.add(null, [], `no DaemonSet ${DAEMONSET}`);
		return {};
	}
	const podSpec = daemonSet.spec?.template?.spec ?? {};
	const containers = podSpec.containers ?? [];
	const index = containers.findIndex((c) => c.name === CONTAINER);
	if (index < 0) {
		problems?.add(daemonSet, ["spec", "template", "spec", "containers"], `no container ${CONTAINER}`);
		return { daemonSet, podSpec };
	}
	return { daemonSet, podSpec, container: containers[index], index };
}

function checkSecurity(ctx) {
	const { daemonSet, podSpec, container, at, problems } = ctx;
	const pod = ["spec", "template", "spec"];
	const security = container.securityContext ?? {};
	const sc = [...at, "securityContext"];
	for (const field of ["hostPID", "hostNetwork", "hostIPC"]) {
		if (podSpec[field] === true)
			problems.add(daemonSet, [...pod, field], "must not be true: the monitor reads the node through /host");
	}
	if (security.privileged === true)
		problems.add(daemonSet, [...sc, "privileged"], "the container must not be privileged");
	if (security.allowPrivilegeEscalation !== false)
		problems.add(daemonSet, [...sc, "allowPrivilegeEscalation"], "must be false");
	if (security.readOnlyRootFilesystem !== true)
		problems.add(daemonSet, [...sc, "readOnlyRootFilesystem"], "must be true");
	const runAsUser = security.runAsUser ?? podSpec.securityContext?.runAsUser;
	if (runAsUser !== 0)
		problems.add(daemonSet, [...sc, "runAsUser"],
			"must be 0: Kubernetes gives added capabilities only to UID 0 (the image's default user is 65534)");
	const seccomp = security.seccompProfile ?? podSpec.securityContext?.seccompProfile;
	if (seccomp?.type !== "RuntimeDefault")
		problems.add(daemonSet, [...pod, "securityContext", "seccompProfile"], "must be RuntimeDefault");
	const capabilities = security.capabilities ?? {};
	const drop = (capabilities.drop ?? []).map(capabilityName);
	if (!drop.includes("ALL"))
		problems.add(daemonSet, [...sc, "capabilities", "drop"], "must contain ALL");
	const add = (capabilities.add ?? []).map(capabilityName);
	const extra = add.filter((c) => !EXPECTED_CAPABILITIES.includes(c));
	const missing = EXPECTED_CAPABILITIES.filter((c) => !add.includes(c));
	if (extra.length || missing.length || new Set(add).size !== add.length) {
		const details = [
			extra.length ? `extra: ${extra.join(", ")}` : null,
			missing.length ? `missing: ${missing.join(", ")}` : null,
			new Set(add).size !== add.length ? "listed twice" : null,
		].filter(Boolean);
		problems.add(daemonSet, [...sc, "capabilities", "add"],
			`must add exactly ${EXPECTED_CAPABILITIES.join(", ")} (${details.join("; ")})`);
	}
}

function checkVolumes(ctx) {
	const { daemonSet, podSpec, problems } = ctx;
	const pod = ["spec", "template", "spec"];
	const volumes = new Map((podSpec.volumes ?? []).map((v) => [v.name, v]));
	const used = new Set();
	const groups = [["initContainers", podSpec.initContainers ?? []], ["containers", podSpec.containers ?? []]];
	for (const [group, containers] of groups) {
		containers.forEach((container, ci) => {
			(container.volumeMounts ?? []).forEach((mount, mi) => {
				const at = [...pod, group, ci, "volumeMounts", mi];
				const volume = volumes.get(mount.name);
				used.add(mount.name);
				if (!volume) {
					problems.add(daemonSet, at, `volume ${mount.name} is not defined in volumes`);
					return;
				}
				if (!volume.hostPath)
					return;
				if (mount.readOnly !== true && volume.hostPath.path !== WRITABLE_HOST_PATH)
					problems.add(daemonSet, at, `hostPath ${volume.hostPath.path} must be mounted readOnly`);
				if (mount.mountPropagation === "Bidirectional")
					problems.add(daemonSet, [...at, "mountPropagation"],
						"must not be Bidirectional: that needs a privileged container and lets mounts escape to the node");
			});
		});
	}
	(podSpec.volumes ?? []).forEach((volume, i) => {
		if (!used.has(volume.name))
			problems.add(daemonSet, [...pod, "volumes", i], `volume ${volume.name} is mounted nowhere`);
	});
	// The referenced ConfigMaps exist, unless they are optional (accessmon-identities).
	(podSpec.volumes ?? []).forEach((volume, i) => {
		const name = volume.configMap?.name;
		if (name && volume.configMap.optional !== true && !find(ctx.objects, "ConfigMap", name))
			problems.add(daemonSet, [...pod, "volumes", i, "configMap", "name"],
				`ConfigMap ${name} is not in the stream and not optional`);
	});
}

function checkScheduling(ctx) {
	const { daemonSet, podSpec, problems } = ctx;
	const pod = ["spec", "template", "spec"];
	const effects = new Set();
	for (const t of podSpec.tolerations ?? []) {
		if (t.operator === "Exists" && !t.key) {
			if (t.effect)
				effects.add(t.effect);
			else
				["NoSchedule", "PreferNoSchedule", "NoExecute"].forEach((e) => effects.add(e));
		}
	}
	if (!effects.has("NoSchedule") || !effects.has("NoExecute"))
		problems.add(daemonSet, [...pod, "tolerations"],
			"must tolerate every taint: a toleration with operator Exists and no key (and no effect)");
	if (podSpec.priorityClassName !== "system-node-critical")
		problems.add(daemonSet, [...pod, "priorityClassName"], "must be system-node-critical");
}

function checkResources(ctx) {
	const { daemonSet, container, at, problems } = ctx;
	const resources = container.resources ?? {};
	for (const [kind, name] of [["requests", "cpu"], ["requests", "memory"], ["limits", "memory"]]) {
		if (resources[kind]?.[name] === undefined)
			problems.add(daemonSet, [...at, "resources", kind, name], "must be set");
	}
	if (resources.limits?.cpu !== undefined)
		problems.add(daemonSet, [...at, "resources", "limits", "cpu"],
			"must not be set: a throttled monitor falls behind the kernel ring buffer and loses events");
}

function checkEnvironment(ctx) {
	const { daemonSet, container, at, problems } = ctx;
	const defined = new Set((container.env ?? []).map((e) => e.name));
	for (const field of ["command", "args"]) {
		(container[field] ?? []).forEach((arg, i) => {
			for (const [, name] of String(arg).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
				if (!defined.has(name))
					problems.add(daemonSet, [...at, field, i], `refers to $(${name}), which env does not define`);
			}
		});
	}
	if (!container.image)
		problems.add(daemonSet, [...at, "image"], "must be set");
}

// config.json: parses, and agrees with the pod: probes on its listen port, the
// node's paths mounted where host-root and cgroup-root say.
function checkConfig(ctx) {
	const { objects, daemonSet, podSpec, container, at, problems } = ctx;
	const path = configArgument(container);
	if (!path) {
		problems.add(daemonSet, [...at, "args"], "no --config argument");
		return;
	}
	const file = fileFromConfigMap(objects, podSpec, container, path);
	if (file.error) {
		problems.add(daemonSet, [...at, "args"], `--config ${path}: ${file.error}`);
		return;
	}
	let config;
	try {
		config = JSON.parse(file.text);
	} catch (error) {
		problems.add(file.configMap, ["data", file.key], `not valid JSON: ${error.message}`);
		return;
	}
	if (!isObject(config)) {
		problems.add(file.configMap, ["data", file.key], "must be a JSON object of options");
		return;
	}
	const mounts = container.volumeMounts ?? [];
	const volumes = new Map((podSpec.volumes ?? []).map((v) => [v.name, v]));
	const hostMount = (hostPath) =>
		mounts.find((m) => volumes.get(m.name)?.hostPath?.path === hostPath && !m.subPath);

	const listen = config.listen === undefined ? null : parseListen(config.listen);
	if (!listen) {
		problems.add(file.configMap, ["data", file.key],
			`"listen" ${config.listen === undefined ? "is not set" : `${JSON.stringify(config.listen)} is not [ADDRESS:]PORT`}: the probes need /healthz and /readyz`);
	} else {
		if (listen.host === null || /^(127\.|localhost$|::1$)/.test(listen.host))
			problems.add(file.configMap, ["data", file.key],
				`"listen" ${JSON.stringify(config.listen)} is loopback only: the kubelet's probes cannot reach it`);
		const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
		for (const [field, wanted] of [["livenessProbe", "/healthz"], ["readinessProbe", "/readyz"]]) {
			const get = container[field]?.httpGet;
			if (!get) {
				problems.add(daemonSet, [...at, field], `must be an httpGet of ${wanted} on port ${listen.port}`);
				continue;
			}
			if (get.path !== wanted)
				problems.add(daemonSet, [...at, field, "httpGet", "path"], `must be ${wanted}`);
			const port = typeof get.port === "string" && !/^\d+$/.test(get.port) ? ports.get(get.port) : Number(get.port);
			if (port !== listen.port)
				problems.add(daemonSet, [...at, field, "httpGet", "port"],
					`${JSON.stringify(get.port)} is not the port config.json listens on (${listen.port})`);
		}
	}

	const hostRoot = typeof config["host-root"] === "string" ? config["host-root"].replace(/\/+$/, "") : "";
	for (const hostPath of HOST_PATHS_UNDER_ROOT) {
		const mount = hostMount(hostPath);
		const wanted = `${hostRoot}${hostPath}`;
		if (!mount)
			problems.add(daemonSet, [...at, "volumeMounts"], `the node's ${hostPath} is not mounted (the monitor reads it at ${wanted})`);
		else if (mount.mountPath.replace(/\/+$/, "") !== wanted)
			problems.add(daemonSet, [...at, "volumeMounts"],
				`the node's ${hostPath} is mounted at ${mount.mountPath}, but config.json "host-root" ${JSON.stringify(config["host-root"] ?? "/")} reads it at ${wanted}`);
	}
	const cgroup = hostMount("/sys/fs/cgroup");
	if (cgroup && config["cgroup-root"] !== cgroup.mountPath)
		problems.add(file.configMap, ["data", file.key],
			`"cgroup-root" ${JSON.stringify(config["cgroup-root"])} is not where the node's cgroup tree is mounted (${cgroup.mountPath})`);
	if (typeof config.identities === "string" && !mounts.some((m) => m.mountPath === config.identities))
		problems.add(file.configMap, ["data", file.key],
			`"identities" ${JSON.stringify(config.identities)} is not a mounted directory`);
	// Files it names must be in the pod: a ConfigMap key mounted there, or under a mount.
	for (const option of ["policy", "service-tags", "kubelet-token-file", "pods", "cluster"]) {
		const path = config[option];
		if (typeof path !== "string" || path.startsWith("/var/run/secrets/kubernetes.io/serviceaccount/"))
			continue;
		const mounted = mounts.some((m) => m.mountPath === path ||
			(!m.subPath && path.startsWith(`${m.mountPath.replace(/\/+$/, "")}/`)));
		if (!mounted)
			problems.add(file.configMap, ["data", file.key],
				`"${option}" ${JSON.stringify(path)} is not in any volume mount`);
	}
	const caFile = config["kubelet-ca-file"];
	if (typeof caFile === "string" && caFile.startsWith("/var/run/secrets/kubernetes.io/serviceaccount/") &&
	    podSpec.automountServiceAccountToken === false)
		problems.add(daemonSet, ["spec", "template", "spec", "automountServiceAccountToken"],
			`must not be false: "kubelet-ca-file" and the kubelet token come from the service account`);
}

function checkAccess(ctx) {
	const { objects, daemonSet, podSpec, problems } = ctx;
	const pod = ["spec", "template", "spec"];
	const namespace = daemonSet.metadata?.namespace;
	const account = podSpec.serviceAccountName;
	if (!account) {
		problems.add(daemonSet, [...pod, "serviceAccountName"], "must be set: the kubelet authorizes the monitor by it");
		return;
	}
	if (!objects.some((o) => o.kind === "ServiceAccount" && o.metadata?.name === account &&
			o.metadata?.namespace === namespace))
		problems.add(daemonSet, [...pod, "serviceAccountName"], `ServiceAccount ${namespace}/${account} is not in the stream`);
	const bound = objects.filter((o) => o.kind === "ClusterRoleBinding" &&
		(o.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === account && s.namespace === namespace));
	if (!bound.length)
		problems.add(daemonSet, [...pod, "serviceAccountName"], `no ClusterRoleBinding binds ServiceAccount ${namespace}/${account}`);
	const grants = new Set();
	for (const binding of bound) {
		const role = find(objects, "ClusterRole", binding.roleRef?.name);
		if (!role || binding.roleRef?.kind !== "ClusterRole") {
			problems.add(binding, ["roleRef"], `ClusterRole ${binding.roleRef?.name} is not in the stream`);
			continue;
		}
		(role.rules ?? []).forEach((rule, i) => {
			for (const group of rule.apiGroups ?? [])
				for (const resource of rule.resources ?? [])
					for (const verb of rule.verbs ?? []) {
						const grant = `${group}/${resource} ${verb}`;
						grants.add(grant);
						if (!ALLOWED_GRANTS.has(grant))
							problems.add(role, ["rules", i],
								`grants ${verb} on ${group ? `${group}/` : ""}${resource}: the monitor needs only get on nodes/pods`);
					}
			if (rule.nonResourceURLs?.length)
				problems.add(role, ["rules", i, "nonResourceURLs"], "the monitor needs none");
		});
	}
	if (bound.length && !grants.has("/nodes/pods get"))
		problems.add(daemonSet, [...pod, "serviceAccountName"], "its roles do not grant get on nodes/pods: the kubelet will refuse /pods");

	const ns = find(objects, "Namespace", namespace);
	if (!ns)
		problems.add(null, [], `Namespace ${namespace} is not in the stream`);
	else if (ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"] !== "privileged")
		problems.add(ns, ["metadata", "labels", "pod-security.kubernetes.io/enforce"],
			"must be privileged: hostPath volumes and added capabilities fail the baseline level");
}

function checkAccessmon(objects, problems) {
	const { daemonSet, podSpec, container, index } = monitorContainer(objects, problems);
	if (!container)
		return;
	const at = ["spec", "template", "spec", "containers", index];
	const ctx = { objects, daemonSet, podSpec, container, at, problems };
	checkSecurity(ctx);
	checkVolumes(ctx);
	checkScheduling(ctx);
	checkResources(ctx);
	checkEnvironment(ctx);
	checkConfig(ctx);
	checkAccess(ctx);
}

// --- main ------------------------------------------------------------------

function readInput(file) {
	try {
		return readFileSync(file === "-" ? 0 : file, "utf8");
	} catch (error) {
		process.stderr.write(`validate: ${file}: ${error.message}\n`);
		process.exit(2);
	}
}

// The problems of one stream, on stdout; how many.
async function validateStream(file, options, prefix) {
	const problems = new Problems();
	const objects = readDocuments(readInput(file), problems);
	for (const object of objects)
		await validateSchemas(object, problems);
	if (!options.schemaOnly)
		checkAccessmon(objects, problems);
	for (const line of problems.lines)
		process.stdout.write(`${prefix}${line}\n`);
	process.stderr.write(`validate: ${prefix}${objects.length} objects, ${problems.lines.length} problems\n`);
	return problems.lines.length;
}

async function main() {
	const options = parseArguments(process.argv.slice(2));

	if (options.mode !== "validate") {
		const unreadable = new Problems();
		const objects = readDocuments(readInput(options.files[0]), unreadable);
		if (unreadable.lines.length) {
			process.stderr.write(unreadable.lines.map((line) => `validate: ${line}\n`).join(""));
			process.exit(1);
		}
		const { podSpec, container } = monitorContainer(objects, null);
		if (!container) {
			process.stderr.write(`validate: no container ${CONTAINER} in a DaemonSet ${DAEMONSET}\n`);
			process.exit(1);
		}
		if (options.mode === "capabilities") {
			for (const capability of container.securityContext?.capabilities?.add ?? [])
				process.stdout.write(`${capabilityName(capability).toLowerCase()}\n`);
			return;
		}
		const path = configArgument(container);
		const file = path ? fileFromConfigMap(objects, podSpec, container, path) : { error: "no --config argument" };
		if (file.error) {
			process.stderr.write(`validate: ${file.error}\n`);
			process.exit(1);
		}
		process.stdout.write(file.text);
		return;
	}

	let total = 0;
	for (const file of options.files)
		total += await validateStream(file, options, options.files.length > 1 ? `${file}: ` : "");
	process.exitCode = total ? 1 : 0;
}

await main();
