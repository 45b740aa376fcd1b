/**
 * Every YAML file in components/ and deploy/ parses, and the fields the app
 * and Dapr rely on agree with the code: component and topic names, the
 * delivery route, app id and port, token secrets, probes and shutdown time.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../../src/config/config";
import { DEAD_LETTER_TOPIC } from "../../../src/events/todo-event-asyncapi";
import { DELIVERY_PATH } from "../../../src/http/dapr-routes";

const root = join(__dirname, "..", "..", "..");
const defaults = loadConfig({ JWT_SECRET: "x".repeat(32) }).config;
const APP_ID = "todo-api";
/** The example downstream consumer (examples/python-consumer, deploy/kubernetes/todo-events-consumer.yaml). */
const CONSUMER_APP_ID = "todo-events-consumer";

/** Manifests are checked field by field below; their shapes vary by kind, so the spec stays loosely typed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kubernetes/Dapr specs differ per kind
type Spec = any;
type Manifest = {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Spec;
  scopes?: string[];
};

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? yamlFiles(join(dir, entry.name)) : /\.ya?ml$/.test(entry.name) ? [join(dir, entry.name)] : [],
  );
}

function manifestsIn(file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(file, "utf8"));
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${relative(root, file)}: ${document.errors[0].message}`);
  }
  return documents.map((document) => document.toJS() as Manifest).filter((manifest) => manifest !== null);
}

interface PodTemplate {
  metadata: { annotations?: Record<string, string> };
  spec: {
    terminationGracePeriodSeconds: number;
    containers: {
      command: string[];
      resources: { limits: { memory: string } };
      ports: { containerPort: number }[];
      env?: { name: string; value?: string }[];
      readinessProbe: { httpGet: { path: string } };
      livenessProbe: { httpGet: { path: string } };
    }[];
  };
}

const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  config: { apiNodeFlags: string };
};

const files = [
  ...yamlFiles(join(root, "components")),
  ...yamlFiles(join(root, "deploy")),
  ...yamlFiles(join(root, "examples/python-consumer/components")),
];
const all = files.flatMap((file) => manifestsIn(file).map((manifest) => ({ file: relative(root, file), manifest })));
const ofKind = (kind: string) => all.filter(({ manifest }) => manifest.kind === kind);
const scopedTo = (appId: string) => (entry: { manifest: Manifest }) => entry.manifest.scopes?.includes(appId) ?? false;
const metadataOf = (component: Manifest): Record<string, string> =>
  Object.fromEntries((component.spec.metadata as { name: string; value: string }[]).map((m) => [m.name, m.value]));
const deploymentNamed = (name: string) => {
  const found = ofKind("Deployment").find(({ manifest }) => manifest.metadata.name === name);
  if (found === undefined) throw new Error(`no Deployment ${name}`);
  return found.manifest;
};

describe("Dapr and Kubernetes manifests", () => {
  it("finds and parses every YAML file", () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const { file, manifest } of all)
      expect({ file, hasKind: typeof manifest.kind }).toEqual({ file, hasKind: "string" });
  });

  it("scopes every component to the API or to the consumer, never to both", () => {
    for (const { file, manifest } of ofKind("Component")) {
      expect({ file, scopes: manifest.scopes }).toEqual({
        file,
        scopes: expect.arrayContaining([expect.stringMatching(`^(${APP_ID}|${CONSUMER_APP_ID})$`)]),
      });
      expect({ file, both: scopedTo(APP_ID)({ manifest }) && scopedTo(CONSUMER_APP_ID)({ manifest }) }).toEqual({
        file,
        both: false,
      });
    }
  });

  it.each(
    ofKind("Component")
      .filter((entry) => !scopedTo(CONSUMER_APP_ID)(entry))
      .map(({ file, manifest }) => [file, manifest] as const),
  )("%s declares the pub/sub component the code publishes to", (_file, component) => {
    expect(component.scopes).toEqual([APP_ID]);
    expect(component.metadata.name).toBe(defaults.dapr.pubsubName);
    expect(component.spec.type).toMatch(/^pubsub\.(kafka|in-memory)$/);
    if (component.spec.type === "pubsub.kafka") {
      const metadata = metadataOf(component);
      expect(metadata.brokers).toBeTruthy();
      // Every replica needs every event for its WebSocket subscribers.
      expect(metadata.consumerGroup).toMatch(/\{(uuid|podName)\}/);
    }
  });

  it.each(
    ofKind("Component")
      .filter(scopedTo(CONSUMER_APP_ID))
      .map(({ file, manifest }) => [file, manifest] as const),
  )("%s gives the consumer a stable consumer group of its own, from the oldest offset", (_file, component) => {
    expect(component.scopes).toEqual([CONSUMER_APP_ID]);
    expect(component.spec.type).toBe("pubsub.kafka");
    const metadata = metadataOf(component);
    expect(metadata.brokers).toBeTruthy();
    // A group that is new at every start (like the API's) would skip what was published while it was down.
    expect(metadata.consumerGroup).toBe(CONSUMER_APP_ID);
    expect(metadata.initialOffset).toBe("oldest");
  });

  it("has a consumer component locally and on Kubernetes", () => {
    expect(
      ofKind("Component")
        .filter(scopedTo(CONSUMER_APP_ID))
        .map(({ file }) => file)
        .sort(),
    ).toEqual(["deploy/kubernetes/todo-events-consumer.yaml", "examples/python-consumer/components/kafka-pubsub.yaml"]);
  });

  it("dead-letters to the topic schema/asyncapi.yaml describes", () => {
    const subscriptions = ofKind("Subscription");
    expect(subscriptions.length).toBeGreaterThan(0);
    for (const { manifest } of subscriptions) expect(manifest.spec.deadLetterTopic).toBe(DEAD_LETTER_TOPIC);
  });

  it.each(ofKind("Subscription").map(({ file, manifest }) => [file, manifest] as const))(
    "%s delivers the topic to the API's delivery route with a dead-letter topic",
    (_file, subscription) => {
      expect(subscription.spec).toMatchObject({
        pubsubname: defaults.dapr.pubsubName,
        topic: defaults.dapr.todoEventsTopic,
        routes: { default: DELIVERY_PATH },
        deadLetterTopic: expect.stringMatching(/\S/),
      });
      expect(subscription.scopes).toContain(APP_ID);
    },
  );

  it("has a resiliency policy that targets the pub/sub component both ways", () => {
    const [{ manifest }] = ofKind("Resiliency");
    const target = manifest.spec.targets.components[defaults.dapr.pubsubName];
    expect(Object.keys(target).sort()).toEqual(["inbound", "outbound"]);
    expect(manifest.spec.policies.retries[target.outbound.retry]).toBeDefined();
    expect(manifest.spec.policies.retries[target.inbound.retry]).toBeDefined();
    expect(manifest.spec.policies.timeouts[target.outbound.timeout]).toBeDefined();
  });

  describe("the Kubernetes Deployment", () => {
    const template = deploymentNamed(APP_ID).spec.template as PodTemplate;
    const container = template.spec.containers[0];
    const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable]));
    const annotations = template.metadata.annotations ?? {};

    it("injects a sidecar for the app id the components are scoped to, on the port the app listens on", () => {
      expect(annotations).toMatchObject({
        "dapr.io/enabled": "true",
        "dapr.io/app-id": APP_ID,
        "dapr.io/app-protocol": "http",
      });
      expect(annotations["dapr.io/app-port"]).toBe(String(container.ports[0].containerPort));
      expect(env.PORT.value).toBe(annotations["dapr.io/app-port"]);
    });

    it("makes the sidecar and the app authenticate each other through Secrets", () => {
      expect(annotations["dapr.io/api-token-secret"]).toBeTruthy();
      expect(annotations["dapr.io/app-token-secret"]).toBeTruthy();
    });

    it("runs in production with no secret inlined", () => {
      expect(env.NODE_ENV.value).toBe("production");
      for (const variable of Object.values(env)) {
        if (/SECRET|TOKEN|PASSWORD|DATABASE_URL/.test(variable.name)) expect(variable.value).toBeUndefined();
      }
    });

    it("verifies tokens with the keys of the identity provider it names (OIDC discovery), for one audience", () => {
      const plain = Object.fromEntries(
        Object.values(env).flatMap((variable) =>
          variable.value === undefined ? [] : [[variable.name, variable.value]],
        ),
      );
      // The injector supplies APP_API_TOKEN from the Secret the annotations name.
      const { config } = loadConfig({ ...plain, APP_API_TOKEN: "from-the-secret" });

      expect(config.jwt).toMatchObject({ keySource: "provider", keyLocation: { oidcIssuer: env.OIDC_ISSUER.value } });
      expect(config.jwt.audience).toBeTruthy();
    });

    it("probes /readyz and /healthz", () => {
      expect(container.readinessProbe.httpGet.path).toBe("/readyz");
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    });

    it("runs node with the V8 flags of package.json, a heap cap below the container's memory limit", () => {
      const flags = packageJson.config.apiNodeFlags.split(" ");
      expect(container.command).toEqual(["node", ...flags, "dist/src/main.js"]);
      const heapMb = Number(/--max-old-space-size=(\d+)/.exec(container.command.join(" "))?.[1]);
      const limitMb = Number(/^(\d+)Mi$/.exec(container.resources.limits.memory)?.[1]);
      expect(heapMb).toBeGreaterThan(0);
      expect(heapMb).toBeLessThan(limitMb * 0.8);
    });

    it("gives shutdown more time than the API's own deadline", () => {
      expect(template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(defaults.shutdownTimeoutMs);
    });
  });
  describe("the consumer's Kubernetes Deployment", () => {
    const deployment = deploymentNamed(CONSUMER_APP_ID);
    const template = deployment.spec.template as PodTemplate & {
      spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
    };
    const container = template.spec.containers[0] as PodTemplate["spec"]["containers"][number] & {
      volumeMounts: { name: string; mountPath: string }[];
    };
    const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value]));
    const annotations = template.metadata.annotations ?? {};
    const [component] = ofKind("Component")
      .filter(scopedTo(CONSUMER_APP_ID))
      .filter(({ file }) => file.startsWith("deploy/"))
      .map(({ manifest }) => manifest);

    it("injects a sidecar with the app id its component is scoped to, on the port uvicorn listens on", () => {
      expect(annotations).toMatchObject({
        "dapr.io/enabled": "true",
        "dapr.io/app-id": CONSUMER_APP_ID,
        "dapr.io/app-protocol": "http",
      });
      expect(annotations["dapr.io/app-port"]).toBe(String(container.ports[0].containerPort));
      expect(container.command.slice(-2)).toEqual(["--port", annotations["dapr.io/app-port"]]);
    });

    it("subscribes through its own component, by the name the app reads from PUBSUB_NAME", () => {
      expect(component.metadata.name).not.toBe(defaults.dapr.pubsubName);
      expect(env.PUBSUB_NAME).toBe(component.metadata.name);
    });

    it("accepts events only from its sidecar (app token from a Secret)", () => {
      expect(annotations["dapr.io/app-token-secret"]).toBeTruthy();
      expect(Object.keys(env).filter((name) => /TOKEN|SECRET|PASSWORD/.test(name))).toEqual([]);
    });

    it("keeps its processed ids on a volume that outlives the pod, with one writer at a time", () => {
      expect(deployment.spec.replicas).toBe(1);
      expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
      const statePath = env.CONSUMER_STATE ?? "";
      const mount = container.volumeMounts.find((candidate) => statePath.startsWith(`${candidate.mountPath}/`));
      expect(mount).toBeDefined();
      const volume = template.spec.volumes.find((candidate) => candidate.name === mount!.name);
      const claim = ofKind("PersistentVolumeClaim").map(({ manifest }) => manifest.metadata.name);
      expect(claim).toContain(volume?.persistentVolumeClaim?.claimName);
    });

    it("probes /healthz", () => {
      expect(container.readinessProbe.httpGet.path).toBe("/healthz");
      expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    });
  });
});
