/** Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by package. */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly byPackage: readonly { readonly name: string; readonly ms: number; readonly share: number }[];
  readonly byFunction: readonly { readonly name: string; readonly ms: number; readonly share: number }[];
}

/** "express", "src/graphql/schema.ts", "node:internal", "(garbage collector)", … */
export function packageOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return modules[1];
  const own = /\/dist\/(src\/.+)\.js$/.exec(url);
  if (own !== null) return `${own[1]}.ts`;
  if (url.startsWith("node:")) return url.startsWith("node:internal") ? "node:internal" : url;
  return url;
}

export function summariseProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const totalSamples = profile.samples.length;
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const msPerSample = totalSamples === 0 ? 0 : totalMs / totalSamples;
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
    const fn = `${functionName || "(anonymous)"} ${pkg}${url === "" ? "" : `:${lineNumber + 1}`}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
  }
  const rank = (map: Map<string, number>): ProfileSummary["byPackage"] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ name, ms: Math.round(hits * msPerSample), share: hits / totalSamples }));
  return { totalMs: Math.round(totalMs), byPackage: rank(byPackage), byFunction: rank(byFunction) };
}

export function renderProfile(summary: ProfileSummary): string {
  const table = (title: string, rows: ProfileSummary["byPackage"]): string[] => [
    `| ${title} | self ms | share |`,
    "| --- | ---: | ---: |",
    ...rows.map((row) => `| \`${row.name}\` | ${row.ms} | ${(row.share * 100).toFixed(1)}% |`),
  ];
  return [
    `Profile of ${summary.totalMs} ms (self time):`,
    "",
    ...table("package / file", summary.byPackage),
    "",
    ...table("function", summary.byFunction),
    "",
  ].join("\n");
}
