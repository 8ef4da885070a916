import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * docker-compose.yml and the Kubernetes manifests under deploy/ are only read, never run, on the machines
 * this project is built on (no Docker, no cluster). This test parses docker-compose.yml, and renders deploy/
 * with kustomize and checks every rendered object against the Kubernetes API types (both by
 * scripts/render-manifests, a small Go program built into .tools/bin by scripts/install-manifest-renderer.sh:
 * an unknown field or a wrong type in any manifest fails it). Then it checks the structure that matters:
 * every service is there, made from the one template, with its PodDisruptionBudget and
 * HorizontalPodAutoscaler; probes hit a port the container declares; only the gateway is reachable; every
 * environment variable is one the services actually read (so a typo fails here, not in production).
 */
const ROOT = resolve(__dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const APP_SERVICES = ['gateway', 'identity', 'membership', 'authorization', 'audit-log'];
const BACKENDS = APP_SERVICES.filter((name) => name !== 'gateway');
const NAMESPACE = 'people-platform';

/** Every variable the services read (libs/platform/src/config.ts). */
const KNOWN_ENV = new Set([
  'MONGO_URL',
  'MONGO_DB',
  'NATS_URL',
  'NATS_SUBJECT_PREFIX',
  'NATS_STREAM_REPLICAS',
  'LOG_LEVEL',
  'HTTP_PORT',
  'SERVICE_REQUEST_TIMEOUT_MS',
  'GATEWAY_PORT',
  'METRICS_PORT',
  'TRUST_PROXY',
  'BOOTSTRAP_ADMIN_EMAIL',
  'BOOTSTRAP_ADMIN_USERNAME',
  'BOOTSTRAP_ADMIN_TOKEN',
  'SESSION_TTL_HOURS',
  'BOOTSTRAP_ORG_NAME',
  'AUDIT_RETENTION_DAYS',
]);

// ---- the shapes read below (only the fields this test looks at) ----

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition?: string }>;
  restart?: string;
  healthcheck?: { test?: unknown };
  ports?: string[];
  profiles?: string[];
}

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean };
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}

interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: { port?: number | string; protocol?: string }[];
}

interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean };
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: { labelSelector?: LabelSelector }[];
  containers: Container[];
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: LabelSelector & Record<string, unknown>;
    ports?: { port: number; targetPort?: number | string }[];
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
    // PodDisruptionBudget
    maxUnavailable?: number | string;
    minAvailable?: number | string;
    // HorizontalPodAutoscaler
    scaleTargetRef?: { apiVersion: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    // NetworkPolicy
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  };
}

/** All documents of a YAML file as plain objects; any parse error fails with the file name. */
function loadYaml<T>(path: string): T[] {
  // merge: true resolves `<<: *anchor` as Docker Compose does.
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  const errors = Array.from(docs).flatMap((doc) => doc.errors.map((e) => `${path}: ${e.message}`));
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return Array.from(docs)
    .map((doc) => doc.toJS() as T)
    .filter((value) => value !== null && value !== undefined);
}

function envNames(environment: ComposeService['environment']): string[] {
  if (!environment) return [];
  return Array.isArray(environment) ? environment.map((entry) => entry.split('=')[0]) : Object.keys(environment);
}

function envMap(environment: ComposeService['environment']): Record<string, string> {
  if (!environment) return {};
  if (!Array.isArray(environment)) return environment;
  return Object.fromEntries(environment.map((entry) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)]));
}

function unknownEnv(names: string[]): string[] {
  return names.filter((name) => !KNOWN_ENV.has(name));
}

/** Every file under dir, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path).map((file) => join(entry, file)) : [entry];
  });
}

// ---- the renderer: kustomize and a strict check against the Kubernetes API types ----

const RENDERER = join(ROOT, '.tools/bin/render-manifests');

/** Builds (first time, or after its source changed: minutes) or finds (milliseconds) the renderer. */
function installRenderer(): void {
  const install = spawnSync('bash', [join(ROOT, 'scripts/install-manifest-renderer.sh')], { encoding: 'utf8' });
  if (install.status !== 0) {
    throw new Error(`scripts/install-manifest-renderer.sh failed (it needs Go and the Go module proxy):\n${install.stderr}`);
  }
}

/** kustomize build of dir: the objects, or the renderer's errors (kustomize's, or the objects' decoding). */
function render(dir: string): { objects: K8sObject[]; errors: string } {
  const run = spawnSync(RENDERER, [dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  return run.status === 0 ? { objects: JSON.parse(run.stdout) as K8sObject[], errors: '' } : { objects: [], errors: run.stderr || `exit ${run.status}` };
}

/** Does the selector select these labels (Kubernetes' LabelSelector semantics)? */
function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    if (operator === 'In') return key in labels && values.includes(labels[key]);
    if (operator === 'NotIn') return !(key in labels) || !values.includes(labels[key]);
    if (operator === 'Exists') return key in labels;
    return !(key in labels);
  });
  return byLabels && byExpressions;
}

// ---- docker-compose.yml ----

describe('docker-compose.yml', () => {
  const [compose] = loadYaml<{ services: Record<string, ComposeService> }>(join(ROOT, 'docker-compose.yml'));
  const services = compose.services;

  const byDefault = Object.fromEntries(Object.entries(services).filter(([, s]) => !s.profiles));

  it('has mongo, nats and the five services (without a profile)', () => {
    expect(Object.keys(byDefault).sort()).toEqual(['mongo', 'nats', ...APP_SERVICES].sort());
    expect(services.mongo.image).toBe('mongo:7');
    expect(services.nats.image).toMatch(/^nats:2\.10/);
    expect(services.nats.command).toEqual(['-js', '-sd', '/data', '-m', '8222']);
    expect(services.mongo.healthcheck?.test).toBeDefined();
    expect(services.nats.healthcheck?.test).toBeDefined();
  });

  it('profile cluster: three NATS nodes routed to each other, a second replica of every service, and the env file that points them at the cluster', () => {
    const cluster = Object.entries(services).filter(([, s]) => s.profiles?.includes('cluster'));
    expect(cluster.map(([name]) => name).sort()).toEqual(['nats-1', 'nats-2', 'nats-3', ...APP_SERVICES.map((n) => `${n}-2`)].sort());
    const routes = 'nats://nats-1:6222,nats://nats-2:6222,nats://nats-3:6222';
    for (const n of [1, 2, 3]) {
      const command = services[`nats-${n}`].command ?? [];
      expect(command).toEqual(expect.arrayContaining(['-js', '--server_name', `nats-${n}`, '--cluster_name', 'people-platform', '--routes', routes]));
    }
    for (const name of APP_SERVICES) {
      const second = services[`${name}-2`];
      expect(second.command).toEqual(services[name].command);
      expect(envMap(second.environment)).toEqual(envMap(services[name].environment));
      expect(second.build === undefined || second.build === 'null').toBe(true); // `!reset null`: one service builds the image
    }
    expect(services['gateway-2'].ports).toEqual(['${GATEWAY_PORT_2:-3001}:3000']);
    expect(envMap(services.gateway.environment)).toMatchObject({
      NATS_URL: '${NATS_URL:-nats://nats:4222}',
      NATS_STREAM_REPLICAS: '${NATS_STREAM_REPLICAS:-1}',
    });
    const envFile = Object.fromEntries(
      readFileSync(join(ROOT, 'compose.cluster.env'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(envFile).toEqual({ COMPOSE_PROFILES: 'cluster', NATS_URL: 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222', NATS_STREAM_REPLICAS: '3' });
  });

  it('builds the one image once, from the Dockerfile', () => {
    const builders = APP_SERVICES.filter((name) => services[name].build !== undefined);
    expect(builders).toEqual(['gateway']);
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    for (const name of APP_SERVICES) expect(services[name].image).toBe(services.gateway.image);
  });

  it.each(APP_SERVICES)('%s runs its main.js with NATS_URL, after nats is healthy', (name) => {
    const service = services[name];
    expect(service.command).toEqual(['node', '-r', 'tsconfig-paths/register', `dist/apps/${name}/src/main.js`]);
    expect(envNames(service.environment)).toContain('NATS_URL');
    expect(service.depends_on?.nats?.condition).toBe('service_healthy');
    expect(service.restart).toBe('unless-stopped');
  });

  it.each(BACKENDS)('%s also gets MONGO_URL, after mongo is healthy', (name) => {
    expect(envNames(services[name].environment)).toContain('MONGO_URL');
    expect(services[name].depends_on?.mongo?.condition).toBe('service_healthy');
  });

  it('the gateway neither waits for MongoDB nor gets its URL (it never uses it)', () => {
    expect(Object.keys(services.gateway.depends_on ?? {})).toEqual(['nats']);
    expect(envNames(services.gateway.environment)).not.toContain('MONGO_URL');
  });

  it('runs MongoDB with a root user from the environment (with defaults), and the services log in as it', () => {
    const mongoEnv = envMap(services.mongo.environment);
    const user = /^\$\{MONGO_ROOT_USERNAME:-[^}]+\}$/;
    const password = /^\$\{MONGO_ROOT_PASSWORD:-[^}]+\}$/;
    expect(mongoEnv.MONGO_INITDB_ROOT_USERNAME).toMatch(user);
    expect(mongoEnv.MONGO_INITDB_ROOT_PASSWORD).toMatch(password);
    for (const name of BACKENDS) {
      const url = envMap(services[name].environment).MONGO_URL;
      expect(url).toBe(`mongodb://${mongoEnv.MONGO_INITDB_ROOT_USERNAME}:${mongoEnv.MONGO_INITDB_ROOT_PASSWORD}@mongo:27017/?authSource=admin`);
    }
  });

  it('publishes the gateway on GATEWAY_PORT (default 3000)', () => {
    expect(services.gateway.ports).toEqual(['${GATEWAY_PORT:-3000}:3000']);
  });

  it('gives the five services only environment variables they read', () => {
    const names = APP_SERVICES.flatMap((name) => envNames(services[name].environment));
    expect(unknownEnv(names)).toEqual([]);
  });
});

// ---- deploy/ (kustomize) ----

describe('deploy/', () => {
  installRenderer();
  const rendered = render(DEPLOY);
  const objects = rendered.objects;
  const yamlFiles = filesUnder(DEPLOY).filter((file) => /\.ya?ml$/.test(file));
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
  /** the NATS cluster (deploy/nats): its own objects, not the platform's */
  const isNats = (o: K8sObject) => o.metadata.labels?.['app.kubernetes.io/name'] === 'nats';
  const configMaps = ofKind('ConfigMap').filter((o) => !isNats(o));
  const secrets = ofKind('Secret');
  const [kustomization] = loadYaml<{ images?: { name: string; newName?: string; newTag?: string }[] }>(join(DEPLOY, 'kustomization.yaml'));

  it('renders with kustomize, every object valid for its Kubernetes API type', () => {
    expect(rendered.errors).toBe('');
    expect(objects.length).toBeGreaterThan(0);
  });

  it.each(yamlFiles)('%s parses', (file) => {
    expect(loadYaml(join(DEPLOY, file)).length).toBeGreaterThan(0);
  });

  it('every manifest in deploy/ is reached from kustomization.yaml', () => {
    const reached = new Set<string>();
    const walk = (dir: string) => {
      const [k] = loadYaml<{ resources?: string[]; components?: string[] }>(join(dir, 'kustomization.yaml'));
      for (const entry of [...(k.resources ?? []), ...(k.components ?? [])]) {
        const path = resolve(dir, entry);
        expect(existsSync(path)).toBe(true);
        if (existsSync(path) && statSync(path).isDirectory()) {
          reached.add(relative(DEPLOY, join(path, 'kustomization.yaml')));
          walk(path);
        } else reached.add(relative(DEPLOY, path));
      }
    };
    walk(DEPLOY);
    // and the optional components (enabled under `components:`), each from its own kustomization.yaml
    for (const component of readdirSync(join(DEPLOY, 'components'))) {
      reached.add(join('components', component, 'kustomization.yaml'));
      walk(join(DEPLOY, 'components', component));
    }
    expect([...reached].sort()).toEqual(yamlFiles.filter((file) => file !== 'kustomization.yaml').sort());
  });

  it('every object has apiVersion, kind and a name, and all but the Namespace are in it', () => {
    for (const o of objects) {
      expect(o.apiVersion).toEqual(expect.any(String));
      expect(o.kind).toEqual(expect.any(String));
      expect(o.metadata?.name).toEqual(expect.any(String));
      if (o.kind !== 'Namespace') expect(o.metadata.namespace).toBe(NAMESPACE);
    }
    expect(find('Namespace', NAMESPACE)).toBeDefined();
  });

  it('has one ConfigMap and the Secret people-platform-secrets with MONGO_URL and BOOTSTRAP_ADMIN_TOKEN', () => {
    expect(configMaps).toHaveLength(1);
    const secret = find('Secret', 'people-platform-secrets');
    expect(Object.keys(secret?.stringData ?? secret?.data ?? {}).sort()).toEqual(['BOOTSTRAP_ADMIN_TOKEN', 'MONGO_URL']);
  });

  it('uses only environment variables the services read', () => {
    const names = [
      ...configMaps.flatMap((o) => Object.keys(o.data ?? {})),
      ...secrets.flatMap((o) => Object.keys({ ...o.data, ...o.stringData })),
      ...objects.filter((o) => !isNats(o)).flatMap((o) => (o.spec?.template?.spec.containers ?? []).flatMap((c) => (c.env ?? []).map((e) => e.name))),
    ];
    expect(unknownEnv(names)).toEqual([]);
  });

  it('makes the five Deployments from one template: one Deployment manifest, and each service a kustomization of it', () => {
    const deploymentFiles = yamlFiles.filter((file) => loadYaml<K8sObject>(join(DEPLOY, file)).some((o) => o.kind === 'Deployment'));
    expect(deploymentFiles).toEqual(['service-template/deployment.yaml']);
    expect(readdirSync(join(DEPLOY, 'services')).sort()).toEqual([...APP_SERVICES].sort());
    for (const name of APP_SERVICES) {
      const [k] = loadYaml<{ resources: string[] }>(join(DEPLOY, 'services', name, 'kustomization.yaml'));
      expect(k.resources).toContain('../../service-template');
    }
    expect(
      ofKind('Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([...APP_SERVICES].sort());
  });

  it('the five Deployments differ only in what a service sets (name, labels, container name, main.js, environment, port, readiness path)', () => {
    const generic = (o: K8sObject) => {
      const copy = JSON.parse(JSON.stringify(o)) as K8sObject;
      const pod = copy.spec!.template!;
      const container = pod.spec.containers[0];
      copy.metadata = { name: '' };
      copy.spec!.selector = {};
      pod.metadata = {};
      pod.spec.topologySpreadConstraints = [];
      container.name = '';
      container.command = container.command?.slice(0, 3);
      container.env = [];
      container.envFrom = container.envFrom?.slice(0, 1);
      // the gateway's second port, `metrics` (METRICS_PORT)
      container.ports = container.ports?.filter((p) => p.name !== 'metrics').map((p) => ({ ...p, containerPort: 0 }));
      container.readinessProbe = { ...container.readinessProbe, httpGet: { ...container.readinessProbe?.httpGet, path: '' } };
      return copy;
    };
    const [first, ...others] = ofKind('Deployment').map(generic);
    for (const other of others) expect(other).toEqual(first);
  });

  it('sets the registry for every container: all run the image of kustomization.yaml `images:`', () => {
    const image = kustomization.images?.find((i) => i.name === 'people-platform');
    // a registry host in front (a dot or a port in the first path segment), as in the documented placeholder
    expect(image?.newName).toMatch(/^[a-z0-9.-]+(\.[a-z0-9-]+|:\d+)\/.+/);
    expect(image?.newTag).toEqual(expect.any(String));
    const containers = ofKind('Deployment').flatMap((o) => o.spec!.template!.spec.containers);
    expect(containers).toHaveLength(APP_SERVICES.length);
    for (const container of containers) expect(container.image).toBe(`${image?.newName}:${image?.newTag}`);
  });

  describe.each(APP_SERVICES)('%s', (name) => {
    const deployment = find('Deployment', name);
    const pod = deployment?.spec?.template?.spec;
    const podLabels = deployment?.spec?.template?.metadata?.labels ?? {};
    const container = pod?.containers.find((c) => c.name === name);
    const envValue = (key: string) => container?.env?.find((e) => e.name === key)?.value;

    /** The containerPort a probe or Service port refers to, by name or by number. */
    const declaredPort = (port: number | string | undefined) => container?.ports?.find((p) => p.name === port || p.containerPort === port)?.containerPort;

    it('has a Deployment whose selector matches its pod labels, its container running its main.js', () => {
      expect(deployment).toBeDefined();
      expect(podLabels).toMatchObject(deployment?.spec?.selector?.matchLabels ?? { missing: 'selector' });
      expect(deployment?.spec?.selector?.matchLabels).toEqual({ 'app.kubernetes.io/name': name });
      expect(container?.command).toEqual(['node', '-r', 'tsconfig-paths/register', `dist/apps/${name}/src/main.js`]);
      for (const constraint of pod?.topologySpreadConstraints ?? []) expect(constraint.labelSelector).toEqual(deployment?.spec?.selector);
    });

    it('runs 2 to 6 replicas, counted by its HorizontalPodAutoscaler only (no replicas in the Deployment)', () => {
      expect(deployment?.spec?.replicas).toBeUndefined();
      const hpa = find('HorizontalPodAutoscaler', name);
      expect(hpa?.apiVersion).toBe('autoscaling/v2');
      expect(hpa?.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa?.spec?.minReplicas).toBe(2);
      expect(hpa?.spec?.maxReplicas).toBeGreaterThan(2);
    });

    it('has a PodDisruptionBudget over its pods that keeps at least one of the 2 running', () => {
      const pdb = find('PodDisruptionBudget', name);
      expect(pdb?.apiVersion).toBe('policy/v1');
      expect(pdb?.spec?.selector).toEqual(deployment?.spec?.selector);
      expect(pdb?.spec?.maxUnavailable).toBe(1);
      // and no other budget covers its pods (two budgets over one pod block evictions)
      expect(ofKind('PodDisruptionBudget').filter((o) => selects(o.spec?.selector, podLabels))).toHaveLength(1);
    });

    it('listens on the port it declares (GATEWAY_PORT / HTTP_PORT)', () => {
      const portVariable = name === 'gateway' ? 'GATEWAY_PORT' : 'HTTP_PORT';
      const expected = name === 'gateway' ? 3000 : 8080;
      expect(Number(envValue(portVariable))).toBe(expected);
      expect(container?.ports?.filter((p) => p.name !== 'metrics').map((p) => p.containerPort)).toEqual([expected]);
    });

    it('serves /metrics on a port named `metrics` (the gateway: METRICS_PORT, apart from its API) or on its HTTP_PORT (a service)', () => {
      const metrics = container?.ports?.find((p) => p.name === 'metrics');
      if (name === 'gateway') {
        expect(Number(envValue('METRICS_PORT'))).toBe(9464);
        expect(metrics?.containerPort).toBe(9464);
        expect(Number(envValue('METRICS_PORT'))).not.toBe(Number(envValue('GATEWAY_PORT')));
      } else {
        expect(metrics).toBeUndefined();
        expect(envValue('METRICS_PORT')).toBeUndefined();
      }
      const annotations = (deployment?.spec?.template?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
      expect(Number(annotations?.['prometheus.io/port'])).toBe(name === 'gateway' ? 9464 : 8080);
    });

    it('probes its own readiness (a service /health/ready, the gateway /health/serving) and GET /health (liveness) on a declared port', () => {
      // the gateway's /health/ready answers for every service: as a probe, one backend down would take every gateway out
      expect(container?.readinessProbe?.httpGet?.path).toBe(name === 'gateway' ? '/health/serving' : '/health/ready');
      expect(container?.livenessProbe?.httpGet?.path).toBe('/health');
      const probes = [container?.readinessProbe, container?.livenessProbe, container?.startupProbe].filter((p) => p !== undefined);
      for (const probe of probes) expect(declaredPort(probe.httpGet?.port)).toBeDefined();
    });

    it('waits in preStop before SIGTERM (endpoints removed first), within its termination grace period', () => {
      const preStop = container?.lifecycle?.preStop;
      const seconds = preStop?.sleep?.seconds ?? (preStop?.exec?.command?.[0] === 'sleep' ? Number(preStop.exec.command[1]) : NaN);
      expect(seconds).toBeGreaterThanOrEqual(5);
      // the grace period counts the preStop time; the process needs time to stop after it
      expect(pod?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(seconds + 20);
    });

    it('takes its environment from the ConfigMap (and the Secret, when it refers to one, exists)', () => {
      const configMapRefs = (container?.envFrom ?? []).flatMap((e) => (e.configMapRef ? [e.configMapRef.name] : []));
      const secretRefs = (container?.envFrom ?? []).flatMap((e) => (e.secretRef ? [e.secretRef.name] : []));
      expect(configMapRefs).toEqual([configMaps[0]?.metadata.name]);
      for (const secret of secretRefs) expect(find('Secret', secret)).toBeDefined();
      // the gateway needs neither MONGO_URL nor the bootstrap token
      expect(secretRefs).toEqual(name === 'gateway' ? [] : ['people-platform-secrets']);
    });

    it('has resource requests and limits, and runs as non-root on a read-only root filesystem', () => {
      expect(container?.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
      expect(container?.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
      expect(container?.securityContext?.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot).toBe(true);
      expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    });

    // NetworkPolicies: what applies to this service's pods (policies in its namespace whose podSelector selects them)
    const policies = ofKind('NetworkPolicy').filter((o) => selects(o.spec?.podSelector, podLabels));
    const ingressRules = policies.flatMap((o) => o.spec?.ingress ?? []);
    const egressPorts = policies.flatMap((o) => o.spec?.egress ?? []).flatMap((rule) => (rule.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`));

    it('is isolated by NetworkPolicies both ways (a default deny selects it)', () => {
      expect(policies.some((o) => o.spec?.policyTypes?.includes('Ingress'))).toBe(true);
      expect(policies.some((o) => o.spec?.policyTypes?.includes('Egress'))).toBe(true);
      // every egress rule names its ports: nothing is open to every port
      for (const rule of policies.flatMap((o) => o.spec?.egress ?? [])) expect(rule.ports?.length).toBeGreaterThan(0);
    });

    if (name === 'gateway') {
      it('is reachable from outside on its HTTP port only, and reaches DNS and NATS only', () => {
        expect(ingressRules).toHaveLength(1);
        expect(ingressRules[0].from).toBeUndefined(); // any source
        expect(ingressRules[0].ports?.map((p) => declaredPort(p.port))).toEqual([3000]);
        expect([...new Set(egressPorts)].sort()).toEqual(['4222/TCP', '53/TCP', '53/UDP']);
      });
    } else {
      it('is not reachable by anyone (no ingress rule), and reaches DNS, NATS and MongoDB only', () => {
        expect(ingressRules).toEqual([]);
        expect([...new Set(egressPorts)].sort()).toEqual(['27017/TCP', '4222/TCP', '53/TCP', '53/UDP']);
      });
    }
  });

  it('lets the services reach NATS and MongoDB pods that run in the namespace', () => {
    const servicePod = { 'app.kubernetes.io/name': 'identity', 'app.kubernetes.io/part-of': NAMESPACE };
    for (const [server, port] of [
      ['nats', 4222],
      ['mongodb', 27017],
    ] as const) {
      const rules = ofKind('NetworkPolicy')
        .filter((o) => selects(o.spec?.podSelector, { 'app.kubernetes.io/name': server }))
        .flatMap((o) => o.spec?.ingress ?? []);
      const allowed = rules.some(
        (rule) =>
          (rule.from ?? []).some((peer) => !peer.namespaceSelector && selects(peer.podSelector, servicePod)) && (rule.ports ?? []).some((p) => p.port === port),
      );
      expect(allowed).toBe(true);
    }
  });

  it('exposes the gateway with a Service on port 80 to its container port 3000', () => {
    const service = find('Service', 'gateway');
    const gateway = find('Deployment', 'gateway')!;
    const container = gateway.spec!.template!.spec.containers[0];
    const [port] = service?.spec?.ports ?? [];
    expect(port?.port).toBe(80);
    const target = container.ports?.find((p) => p.name === port?.targetPort || p.containerPort === port?.targetPort);
    expect(target?.containerPort).toBe(3000);
    expect(gateway.spec?.template?.metadata?.labels).toMatchObject(service?.spec?.selector ?? { missing: 'selector' });
  });

  it("names the gateway's metrics port on its Service too (for a ServiceMonitor), apart from the public port 80", () => {
    const ports = (find('Service', 'gateway')?.spec?.ports ?? []) as { name?: string; port: number; targetPort?: number | string }[];
    expect(ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 80, 'http'],
      ['metrics', 9464, 'metrics'],
    ]);
  });

  describe('the optional monitoring component (components/monitoring)', () => {
    const dir = join(DEPLOY, 'components/monitoring');
    const [component] = loadYaml<{ kind: string; resources: string[] }>(join(dir, 'kustomization.yaml'));
    const objectsOf = (kind: string) => component.resources.flatMap((file) => loadYaml<K8sObject>(join(dir, file))).filter((o) => o.kind === kind);

    it('is not in the default rendering (its kinds are CRDs the renderer and a cluster without the operator refuse)', () => {
      expect(component.kind).toBe('Component');
      expect(objects.filter((o) => ['ServiceMonitor', 'PodMonitor'].includes(o.kind))).toEqual([]);
    });

    it("scrapes the gateway Service's `metrics` port and the four services' `http` port", () => {
      const [serviceMonitor] = objectsOf('ServiceMonitor') as Array<K8sObject & { spec: { endpoints: { port: string; path: string }[] } }>;
      expect(serviceMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
      const gatewayService = find('Service', 'gateway')!;
      expect(selects(serviceMonitor.spec.selector as LabelSelector, gatewayService.metadata.labels ?? {})).toBe(true);
      expect(serviceMonitor.spec.endpoints.map((e) => [e.port, e.path])).toEqual([['metrics', '/metrics']]);
      const [podMonitor] = objectsOf('PodMonitor') as Array<K8sObject & { spec: { podMetricsEndpoints: { port: string; path: string }[] } }>;
      expect(podMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
      const selected = ofKind('Deployment').filter((d) => selects(podMonitor.spec.selector as LabelSelector, d.spec!.template!.metadata?.labels ?? {}));
      expect(selected.map((d) => d.metadata.name).sort()).toEqual([...BACKENDS].sort());
      expect(podMonitor.spec.podMetricsEndpoints.map((e) => [e.port, e.path])).toEqual([['http', '/metrics']]);
      for (const d of selected) expect(d.spec!.template!.spec.containers[0].ports?.find((p) => p.name === 'http')?.containerPort).toBe(8080);
    });

    it('renders, enabled, with its NetworkPolicy valid (the CRD objects left out: the renderer knows only built-in types)', () => {
      const copy = mkdtempSync(join(tmpdir(), 'deploy-monitoring-'));
      try {
        cpSync(DEPLOY, copy, { recursive: true });
        const k = join(copy, 'kustomization.yaml');
        writeFileSync(k, readFileSync(k, 'utf8').replace('# components:\n#   - components/monitoring', 'components:\n  - components/monitoring'));
        const c = join(copy, 'components/monitoring/kustomization.yaml');
        writeFileSync(c, readFileSync(c, 'utf8').replace(/^ {2}- (service|pod)-monitor\.yaml\n/gm, ''));
        const result = render(copy);
        expect(result.errors).toBe('');
        const policy = result.objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'prometheus-scrape');
        expect(policy?.metadata.namespace).toBe(NAMESPACE);
        expect(policy?.spec?.ingress?.[0].ports?.map((p) => p.port)).toEqual(['metrics', 8080]);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });
  });

  it('has no Service for the NATS-only services', () => {
    const services = ofKind('Service')
      .filter((o) => !isNats(o))
      .map((o) => o.metadata.name);
    expect(services).toEqual(['gateway']);
  });

  it('runs a NATS JetStream cluster of three (StatefulSet, a volume each, routes through the headless Service) and the streams with three replicas', () => {
    const nats = find('StatefulSet', 'nats') as K8sObject & {
      spec: { replicas: number; serviceName: string; volumeClaimTemplates: Array<{ metadata: { name: string } }> };
    };
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.serviceName).toBe('nats-cluster');
    expect(nats.spec.volumeClaimTemplates.map((v) => v.metadata.name)).toEqual(['data']);
    expect(find('Service', 'nats-cluster')).toBeDefined();
    const conf = find('ConfigMap', 'nats-config')?.data?.['nats.conf'] ?? '';
    for (const i of [0, 1, 2]) expect(conf).toContain(`nats://nats-${i}.nats-cluster:6222`);
    expect(conf).toMatch(/jetstream \{\s+store_dir: \/data/);
    const platform = find('ConfigMap', 'people-platform-config')?.data ?? {};
    expect(platform).toMatchObject({ NATS_URL: 'nats://nats:4222', NATS_STREAM_REPLICAS: '3' });
    expect(find('Service', 'nats')?.spec?.selector).toEqual({ 'app.kubernetes.io/name': 'nats' });
  });

  // ---- the renderer catches what a YAML parse cannot ----

  describe('a broken manifest fails the rendering', () => {
    let copy: string;
    beforeEach(() => {
      copy = mkdtempSync(join(tmpdir(), 'deploy-'));
      cpSync(DEPLOY, copy, { recursive: true });
    });
    afterEach(() => rmSync(copy, { recursive: true, force: true }));

    /** Renders the copy of deploy/ with `find` replaced by `replace` in one of its files. */
    const renderEdited = (file: string, find: string, replace: string) => {
      const path = join(copy, file);
      const text = readFileSync(path, 'utf8');
      expect(text).toContain(find);
      writeFileSync(path, text.replace(find, replace));
      return render(copy);
    };

    it('renders the unchanged copy', () => {
      expect(render(copy).errors).toBe('');
    });

    it.each([
      [
        'an unknown field in the template',
        'service-template/deployment.yaml',
        'terminationGracePeriodSeconds: 30',
        'terminationGracePeriodSecond: 30',
        /unknown field.*terminationGracePeriodSecond/,
      ],
      [
        'an unknown field in a container',
        'service-template/deployment.yaml',
        'imagePullPolicy: IfNotPresent',
        'imagePullPolicy: IfNotPresent\n          imagePullSecret: x',
        /unknown field.*imagePullSecret/,
      ],
      ['a wrong type in the template', 'service-template/hpa.yaml', 'minReplicas: 2', 'minReplicas: two', /minReplicas/],
      ['a wrong type in a NetworkPolicy', 'network-policies.yaml', 'policyTypes:\n    - Ingress\n    - Egress', 'policyTypes: Ingress', /policyTypes/],
      [
        'an unknown field in a service patch',
        'services/identity/kustomization.yaml',
        'name: MONGO_DB',
        'name: MONGO_DB\n          valu: x',
        /unknown field.*valu/,
      ],
      ['an unknown field in the ConfigMap', 'configmap.yaml', '\ndata:', '\ndatas:\n  X: y\ndata:', /unknown field.*datas/],
      ['an unknown kind', 'namespace.yaml', 'kind: Namespace', 'kind: Namespaces', /Namespaces/],
    ])('%s', (_what, file, find, replace, message) => {
      const result = renderEdited(file, find, replace);
      expect(result.objects).toEqual([]);
      expect(result.errors).toMatch(message);
    });
  });
});
