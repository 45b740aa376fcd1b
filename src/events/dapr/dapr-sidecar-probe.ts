/** Asks the sidecar whether it is up, for readiness reports (never for gating publishes). */
import type { SidecarStatus } from "../event-publisher";

export interface SidecarProbeOptions {
  readonly daprHost: string;
  readonly daprHttpPort: number;
  readonly timeoutMs: number;
}

export function createSidecarProbe(options: SidecarProbeOptions): () => Promise<SidecarStatus> {
  // The outbound health endpoint answers once components are loaded, even before the app is reachable.
  const url = `http://${options.daprHost}:${options.daprHttpPort}/v1.0/healthz/outbound`;
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
      return response.ok ? "reachable" : "unreachable";
    } catch {
      return "unreachable";
    }
  };
}
