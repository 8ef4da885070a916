import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * docker-compose.yml and the Kubernetes manifests under deploy/ are only read, never run, on the machines
 * this project is built on (no Docker, no kubectl). This test parses them and checks the structure that
 * matters: every service is there, probes hit a port the container declares, and every environment variable
 * is one the services actually read (so a typo fails here, not in production).
 */
const ROOT = resolve(__dirname, '..');
const DEPLOY = join(ROOT, 'deploy');
const APP_SERVICES = ['gateway', 'identity', 'membership', 'authorization', 'audit-log'];

/** Every variable the services read (libs/platform/src/config.ts). */
const KNOWN_ENV = new Set([
  'MONGO_URL',
  'MONGO_DB',
  'NATS_URL',
  'NATS_SUBJECT_PREFIX',
  'LOG_LEVEL',
  'HTTP_PORT',
  'SERVICE_REQUEST_TIMEOUT_MS',
  'GATEWAY_PORT',
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
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean };
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string>; [label: string]: unknown };
    ports?: { port: number; targetPort?: number | string }[];
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec: { securityContext?: { runAsNonRoot?: boolean }; containers: Container[] };
    };
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

function unknownEnv(names: string[]): string[] {
  return names.filter((name) => !KNOWN_ENV.has(name));
}

// ---- docker-compose.yml ----

describe('docker-compose.yml', () => {
  const [compose] = loadYaml<{ services: Record<string, ComposeService> }>(join(ROOT, 'docker-compose.yml'));
  const services = compose.services;

  it('has mongo, nats and the five services', () => {
    expect(Object.keys(services).sort()).toEqual(['mongo', 'nats', ...APP_SERVICES].sort());
    expect(services.mongo.image).toBe('mongo:7');
    expect(services.nats.image).toMatch(/^nats:2\.10/);
    expect(services.nats.command).toEqual(['-js', '-sd', '/data', '-m', '8222']);
    expect(services.mongo.healthcheck?.test).toBeDefined();
    expect(services.nats.healthcheck?.test).toBeDefined();
  });

  it('builds the one image once, from the Dockerfile', () => {
    const builders = APP_SERVICES.filter((name) => services[name].build !== undefined);
    expect(builders).toEqual(['gateway']);
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    for (const name of APP_SERVICES) expect(services[name].image).toBe(services.gateway.image);
  });

  it.each(APP_SERVICES)('%s runs its main.js with MONGO_URL and NATS_URL, after mongo and nats are healthy', (name) => {
    const service = services[name];
    expect(service.command).toEqual(['node', '-r', 'tsconfig-paths/register', `dist/apps/${name}/src/main.js`]);
    expect(envNames(service.environment)).toEqual(expect.arrayContaining(['MONGO_URL', 'NATS_URL']));
    expect(service.depends_on?.mongo?.condition).toBe('service_healthy');
    expect(service.depends_on?.nats?.condition).toBe('service_healthy');
    expect(service.restart).toBe('unless-stopped');
  });

  it('publishes the gateway on GATEWAY_PORT (default 3000)', () => {
    expect(services.gateway.ports).toEqual(['${GATEWAY_PORT:-3000}:3000']);
  });

  it('uses only environment variables the services read', () => {
    const names = Object.values(services).flatMap((service) => envNames(service.environment));
    expect(unknownEnv(names)).toEqual([]);
  });
});

// ---- deploy/ (kustomize) ----

describe('deploy/', () => {
  const yamlFiles = readdirSync(DEPLOY).filter((file) => /\.ya?ml$/.test(file));
  const [kustomization] = loadYaml<{ resources: string[] }>(join(DEPLOY, 'kustomization.yaml'));
  const objects = kustomization.resources
    .filter((file) => existsSync(join(DEPLOY, file))) // a missing one fails the test below
    .flatMap((file) => loadYaml<K8sObject>(join(DEPLOY, file)));
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
  const secrets = objects.filter((o) => o.kind === 'Secret');

  it.each(yamlFiles)('%s parses', (file) => {
    expect(loadYaml(join(DEPLOY, file)).length).toBeGreaterThan(0);
  });

  it('kustomization lists files that exist, and every manifest in deploy/', () => {
    for (const file of kustomization.resources) expect(existsSync(join(DEPLOY, file))).toBe(true);
    const manifests = yamlFiles.filter((file) => file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
  });

  it('every object has apiVersion, kind and a name', () => {
    for (const o of objects) {
      expect(o.apiVersion).toEqual(expect.any(String));
      expect(o.kind).toEqual(expect.any(String));
      expect(o.metadata?.name).toEqual(expect.any(String));
    }
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
      ...objects.flatMap((o) => (o.spec?.template?.spec.containers ?? []).flatMap((c) => (c.env ?? []).map((e) => e.name))),
    ];
    expect(unknownEnv(names)).toEqual([]);
  });

  describe.each(APP_SERVICES)('%s Deployment', (name) => {
    const deployment = find('Deployment', name)!;
    const pod = deployment?.spec?.template?.spec;
    const container = pod?.containers.find((c) => c.name === name);
    const envValue = (key: string) => container?.env?.find((e) => e.name === key)?.value;

    /** The containerPort a probe or Service port refers to, by name or by number. */
    const declaredPort = (port: number | string | undefined) => container?.ports?.find((p) => p.name === port || p.containerPort === port)?.containerPort;

    it('exists with 2 replicas, a selector matching its pod labels, and a container running its main.js', () => {
      expect(deployment).toBeDefined();
      expect(deployment.spec?.replicas).toBe(2);
      expect(deployment.spec?.template?.metadata?.labels).toMatchObject(deployment.spec?.selector?.matchLabels ?? { missing: 'selector' });
      expect(container?.image).toEqual(expect.any(String));
      expect(container?.command).toEqual(['node', '-r', 'tsconfig-paths/register', `dist/apps/${name}/src/main.js`]);
    });

    it('listens on the port it declares (GATEWAY_PORT / HTTP_PORT)', () => {
      const portVariable = name === 'gateway' ? 'GATEWAY_PORT' : 'HTTP_PORT';
      const expected = name === 'gateway' ? 3000 : 8080;
      expect(Number(envValue(portVariable))).toBe(expected);
      expect(container?.ports?.map((p) => p.containerPort)).toEqual([expected]);
    });

    it('probes its own readiness (a service /health/ready, the gateway /health/serving) and GET /health (liveness) on a declared port', () => {
      // the gateway's /health/ready answers for every service: as a probe, one backend down would take every gateway out
      expect(container?.readinessProbe?.httpGet?.path).toBe(name === 'gateway' ? '/health/serving' : '/health/ready');
      expect(container?.livenessProbe?.httpGet?.path).toBe('/health');
      const probes = [container?.readinessProbe, container?.livenessProbe, container?.startupProbe].filter((p) => p !== undefined);
      for (const probe of probes) expect(declaredPort(probe.httpGet?.port)).toBeDefined();
    });

    it('takes its environment from the ConfigMap (and the Secret, when it refers to one, exists)', () => {
      const configMapRefs = (container?.envFrom ?? []).flatMap((e) => (e.configMapRef ? [e.configMapRef.name] : []));
      const secretRefs = (container?.envFrom ?? []).flatMap((e) => (e.secretRef ? [e.secretRef.name] : []));
      expect(configMapRefs).toEqual([configMaps[0]?.metadata.name]);
      for (const secret of secretRefs) expect(find('Secret', secret)).toBeDefined();
      if (name !== 'gateway') expect(secretRefs).toEqual(['people-platform-secrets']);
    });

    it('has resource requests and limits, and runs as non-root on a read-only root filesystem', () => {
      expect(container?.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
      expect(container?.resources?.limits).toEqual(expect.objectContaining({ memory: expect.any(String) }));
      expect(container?.securityContext?.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot).toBe(true);
      expect(container?.securityContext?.readOnlyRootFilesystem).toBe(true);
    });
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

  it('has no Service for the NATS-only services', () => {
    const services = objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name);
    expect(services).toEqual(['gateway']);
  });
});
